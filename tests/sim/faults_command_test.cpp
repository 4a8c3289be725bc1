// The /faults grammar (actors/simulator/faults_command.hpp), table-driven:
// every form the shell accepts and the control it becomes, then inputs it
// refuses. The simulator's own checks of the values are in
// simulator_test.cpp.

#include <catch2/catch.hpp>

#include <sstream>

#include "actors/simulator/faults_command.hpp"
#include "messages/errors.hpp"

using namespace cafchat;

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> xs;
  for (std::string w; in >> w;)
    xs.push_back(w);
  return xs;
}

sim_control make(sim_action a) {
  sim_control c;
  c.action = a;
  return c;
}

struct good_case {
  std::string input;
  sim_control want;
};

std::vector<good_case> good_cases() {
  std::vector<good_case> xs;
  auto add = [&](std::string in, sim_control c) {
    xs.push_back({std::move(in), std::move(c)});
  };
  add("", make(sim_action::query));
  add("off", make(sim_action::all_off));
  add("heal", make(sim_action::heal));
  auto c = make(sim_action::drop);
  c.probability = 0.25;
  add("drop 0.25", c);
  c = make(sim_action::duplicate);
  c.probability = 1;
  add("dup 1", c);
  // Out of [0, 1] is for the simulator to refuse, with its own reason.
  c = make(sim_action::drop);
  c.probability = 1.5;
  add("drop 1.5", c);
  c = make(sim_action::delay);
  c.min_ms = 10;
  c.max_ms = 200;
  add("delay 10 200", c);
  c.min_ms = 0;
  c.max_ms = 0;
  add("delay 0 0", c);
  c = make(sim_action::omission);
  c.on = true;
  add("omission on", c);
  c.min_ms = 2000;
  c.max_ms = 4500;
  add("omission on 2 4.5", c);
  c = make(sim_action::omission);
  add("omission off", c);
  // Off with a range: the range for the next "omission on".
  c.min_ms = 2000;
  c.max_ms = 4000;
  add("omission off 2 4", c);
  c = make(sim_action::isolate);
  c.server = 3;
  add("isolate 3", c);
  c = make(sim_action::split);
  c.servers = {1, 2};
  add("split 1,2", c);
  c.servers = {4};
  add("split 4", c);
  c = make(sim_action::set_rule);
  c.server = 2;
  c.rule = "p:10::a:20::c:30";
  add("2 p:10::a:20::c:30", c);
  // The rule's own grammar is parse_rule's, checked by the simulator.
  c.rule = "nonsense";
  add("2 nonsense", c);
  c = make(sim_action::clear_rule);
  c.server = 5;
  add("5 clear", c);
  return xs;
}

} // namespace

TEST_CASE("faults command: every form becomes its simulator control") {
  for (auto& [input, want] : good_cases()) {
    INFO("/faults " << input);
    auto got = parse_faults_command(words(input));
    REQUIRE(got);
    CHECK(got->action == want.action);
    CHECK(got->server == want.server);
    CHECK(got->rule == want.rule);
    CHECK(got->probability == want.probability);
    CHECK(got->min_ms == want.min_ms);
    CHECK(got->max_ms == want.max_ms);
    CHECK(got->on == want.on);
    CHECK(got->servers == want.servers);
  }
}

TEST_CASE("faults command: anything else is refused with the usage line") {
  const std::vector<std::string> bad{
    "off now",           // verbs without arguments take none
    "heal 1",
    "drop",              // a probability is a number
    "drop x",
    "drop inf",          // a finite number: CAF cannot encode the others
    "dup -inf",
    "drop nan",
    "dup 1e400",
    "dup 0.5 0.6",
    "delay 10",          // two delays, both numbers of ms >= 0
    "delay 10 x",
    "delay -1 10",
    "delay 10 1e10",     // above 32 bits of milliseconds
    "delay inf 10",
    "omission",          // on or off
    "omission maybe",
    "omission on 2",     // both rotation bounds or neither
    "omission on 2 x",
    "omission on -2 4",
    "omission on 2 5e6", // 5e9 ms: above 32 bits
    "isolate",           // a server id above 0
    "isolate 0",
    "isolate x",
    "isolate 1 2",
    "split",             // ids above 0, comma-separated, nothing else
    "split 1,,2",
    "split ,",
    "split 1,x",
    "split 0,1",
    "split 1,2 3",
    "split 99999999999",
    "0 p:10",            // <server> <rule>: a server id above 0
    "x p:10",
    "2",                 // and a rule, or clear
    "2 p:10 a:20",
    "frobnicate",
  };
  for (auto& input : bad) {
    INFO("/faults " << input);
    auto got = parse_faults_command(words(input));
    REQUIRE_FALSE(got);
    CHECK(got.error().code() == static_cast<uint8_t>(chat_errc::invalid_fault));
    CHECK(describe(got.error()) == faults_usage);
  }
  CHECK(std::string{faults_usage}
        == "usage: /faults [off | <server> <rule>|clear | drop <p> | dup <p> "
           "| delay <min_ms> <max_ms> | omission on [<min_s> <max_s>]|off | "
           "isolate <server> | split <a,b,...> | heal]");
}
