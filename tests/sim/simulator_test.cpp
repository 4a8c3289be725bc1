// The network-fault simulator on CAF's test coordinator (the fixture:
// simulator_fixture.hpp), one message at a time: delays, random loss,
// duplicates, per-phase rules and d:N. Omission, partitions and runtime
// control: simulator_control_test.cpp.

#include <catch2/catch.hpp>

#include "tests/sim/simulator_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "actors/common/actor_util.hpp"
#include "messages/errors.hpp"

using namespace cafchat;
using namespace cafchat::test;
using namespace std::chrono_literals;

TEST_CASE_METHOD(sim_fixture, "simulator: with no fault every peer message "
                              "passes at once, unchanged and in order") {
  auto sim = start(sim_options{});
  auto t0 = t_ms();
  for (uint64_t i = 1; i <= 100; ++i) {
    switch (i % 4) {
      case 0:
        send(sim, 1, 2, prepare{{i, 1}, i});
        break;
      case 1:
        send(sim, 2, 3, accept{{1, 2}, i, value::noop()});
        break;
      case 2:
        send(sim, 3, 1, decide{i, value::noop()});
        break;
      default:
        send(sim, 1, 3, heartbeat{{1, 1}, 1, i});
    }
  }
  drain();
  REQUIRE(got->size() == 100);
  for (uint64_t i = 1; i <= 100; ++i) {
    CHECK((*got)[i - 1].tag == i);
    CHECK((*got)[i - 1].t_ms == t0);
  }
  CHECK(state(sim).counters().forwarded == 100);
  CHECK(state(sim).counters().dropped == 0);
  CHECK(state(sim).counters().duplicated == 0);
  CHECK(count_lines("\"event\":\"fault\"") == 0);
}

TEST_CASE_METHOD(sim_fixture, "simulator: a payload that is not one peer "
                              "message is dropped, not sent on") {
  auto sim = start(sim_options{});
  send(sim, 1, 2, sim_control{});
  send(sim, 1, 2, 1.5);
  caf::anon_send(sim, routed{1, 2, dest,
                             caf::make_message(prepare{{1, 1}, 1}, 7)});
  send(sim, 1, 2, prepare{{1, 1}, 1});
  drain();
  CHECK(got->size() == 1);
  CHECK(state(sim).counters().forwarded == 1);
  CHECK(count_lines("\"reason\":\"not_a_peer_message\"") == 3);
}

TEST_CASE_METHOD(sim_fixture, "simulator: delays are uniform in [min, max], "
                              "spread out, and reorder messages") {
  sim_options o;
  o.seed = 3;
  o.delay_min_ms = 100;
  o.delay_max_ms = 500;
  auto sim = start(o);
  auto t0 = t_ms();
  for (uint64_t i = 1; i <= 400; ++i)
    send(sim, 1, 2, accept{{1, 1}, i, value::noop()});
  run_for(1s);
  REQUIRE(got->size() == 400);
  std::set<int64_t> delays;
  size_t inversions = 0;
  for (size_t i = 0; i < got->size(); ++i) {
    auto d = (*got)[i].t_ms - t0;
    CHECK(d >= 100);
    CHECK(d <= 500);
    delays.insert(d);
    if (i > 0 && (*got)[i].tag < (*got)[i - 1].tag)
      ++inversions;
  }
  // 400 draws from 401 values: both ends are nearly reached, and many
  // distinct values occur.
  CHECK(*delays.begin() < 110);
  CHECK(*delays.rbegin() > 490);
  CHECK(delays.size() > 200);
  CHECK(inversions > 100);
}

TEST_CASE_METHOD(sim_fixture, "simulator: random drops occur at the set rate, "
                              "and one seed gives one schedule") {
  sim_options o;
  o.seed = 42;
  o.drop_probability = 0.2;
  o.delay_min_ms = 0;
  o.delay_max_ms = 100;
  auto sim_a = start(o);
  auto sim_b = start(o);
  o.seed = 43;
  auto sim_c = start(o);
  auto got_b = std::make_shared<arrivals>();
  auto got_c = std::make_shared<arrivals>();
  auto dest_b = own(sys.spawn(recorder, got_b));
  auto dest_c = own(sys.spawn(recorder, got_c));
  const size_t n = 2000;
  for (uint64_t i = 1; i <= n; ++i) {
    send(sim_a, 1, 2, accept{{1, 1}, i, value::noop()});
    send(sim_b, 1, 2, accept{{1, 1}, i, value::noop()}, dest_b);
    send(sim_c, 1, 2, accept{{1, 1}, i, value::noop()}, dest_c);
  }
  run_for(1s);
  // Binomial(2000, 0.2): mean 400, sd 17.9; +-4 sd.
  auto lost = n - got->size();
  CHECK(lost > 328);
  CHECK(lost < 472);
  auto& c = state(sim_a).counters();
  CHECK(c.dropped == lost);
  CHECK(c.dropped_random == lost);
  CHECK(c.forwarded == got->size());
  CHECK(count_lines("\"reason\":\"random\"") >= lost);
  // The same seed: the same messages lost, each arriving at the same time.
  CHECK(*got == *got_b);
  // Another seed: another schedule.
  CHECK_FALSE(*got == *got_c);
}

TEST_CASE_METHOD(sim_fixture, "simulator: a duplicated message arrives twice, "
                              "each copy with its own delay") {
  sim_options o;
  o.seed = 5;
  o.duplicate_probability = 0.3;
  o.delay_min_ms = 10;
  o.delay_max_ms = 50;
  auto sim = start(o);
  const size_t n = 1000;
  for (uint64_t i = 1; i <= n; ++i)
    send(sim, 2, 1, accepted{{1, 1}, i, 2});
  run_for(1s);
  std::map<uint64_t, std::vector<int64_t>> times;
  for (auto& x : *got)
    times[x.tag].push_back(x.t_ms);
  REQUIRE(times.size() == n);
  size_t twice = 0;
  size_t apart = 0;
  for (auto& [tag, ts] : times) {
    REQUIRE(ts.size() <= 2);
    if (ts.size() == 2) {
      ++twice;
      apart += ts[0] != ts[1];
    }
  }
  // Binomial(1000, 0.3): mean 300, sd 14.5; +-4 sd.
  CHECK(twice > 242);
  CHECK(twice < 358);
  CHECK(apart > twice / 2);
  CHECK(state(sim).counters().duplicated == twice);
  CHECK(state(sim).counters().forwarded == n);
  CHECK(count_lines("\"kind\":\"duplicate\"") == twice);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule p:10 delays phase-1 messages to "
                              "that server by 10 s, and nothing else") {
  sim_options o;
  o.rules[2] = parse_rule("p:10");
  auto sim = start(o);
  auto t0 = t_ms();
  send(sim, 1, 2, prepare{{1, 1}, 1});
  send(sim, 1, 2, promise{{1, 2}, 1, 2, {}, 0, {}});
  send(sim, 1, 2, nack{{1, 1}, {2, 3}, 0, 1}); // rejects a prepare: phase 1
  send(sim, 1, 2, accept{{1, 1}, 4, value::noop()});
  send(sim, 1, 2, accepted{{1, 2}, 5, 1});
  send(sim, 1, 2, nack{{1, 1}, {2, 3}, 6, 1}); // rejects an accept: phase 2
  send(sim, 1, 2, decide{7, value::noop()});
  send(sim, 1, 2, heartbeat{{1, 1}, 1, 8});
  send(sim, 2, 1, prepare{{1, 2}, 9});  // from the ruled server
  send(sim, 1, 3, prepare{{1, 1}, 10}); // to another server
  drain();
  pass(9999ms);
  std::set<uint64_t> early;
  for (auto& x : *got) {
    CHECK(x.t_ms == t0);
    early.insert(x.tag);
  }
  CHECK(early == std::set<uint64_t>{4, 5, 6, 7, 8, 9, 10});
  pass(1ms);
  REQUIRE(got->size() == 10);
  for (size_t i = 7; i < 10; ++i)
    CHECK((*got)[i].t_ms == t0 + 10000);
  std::set<uint64_t> late{(*got)[7].tag, (*got)[8].tag, (*got)[9].tag};
  CHECK(late == std::set<uint64_t>{0, 1, 2});
  CHECK(state(sim).counters().rule_delayed == 3);
  CHECK(count_lines("\"kind\":\"rule_delay\"") == 3);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule p:10::a:20::c:30 delays each "
                              "phase by its own time, on top of the random "
                              "delay") {
  sim_options o;
  o.delay_min_ms = 5;
  o.delay_max_ms = 5;
  auto sim = start(o);
  auto r = control(sim, rule_for(1, "p:10::a:20::c:30"));
  REQUIRE(r);
  CHECK(r->rules.at(1) == "p:10::a:20::c:30");
  auto t0 = t_ms();
  send(sim, 2, 1, prepare{{1, 2}, 1});
  send(sim, 2, 1, accept{{1, 2}, 2, value::noop()});
  send(sim, 3, 1, learn{{1, 3}, 3, 3, value::noop()});
  send(sim, 2, 1, decide{4, value::noop()});
  send(sim, 2, 1, heartbeat{{1, 2}, 2, 5});
  send(sim, 1, 2, decide{6, value::noop()});
  run_for(40s);
  std::map<uint64_t, int64_t> delay;
  for (auto& x : *got)
    delay[x.tag] = x.t_ms - t0;
  CHECK(delay == std::map<uint64_t, int64_t>{{1, 10005},
                                             {2, 20005},
                                             {3, 20005},
                                             {4, 30005},
                                             {5, 5},
                                             {6, 5}});
  // Milliseconds work too.
  REQUIRE(control(sim, rule_for(1, "p:250ms")));
  got->clear();
  t0 = t_ms();
  send(sim, 2, 1, prepare{{1, 2}, 7});
  send(sim, 2, 1, accept{{1, 2}, 8, value::noop()});
  run_for(1s);
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].tag == 8);
  CHECK((*got)[0].t_ms - t0 == 5);
  CHECK((*got)[1].t_ms - t0 == 255);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule d:0 drops every message to and "
                              "from that server, and only those") {
  sim_options o;
  o.rules[2] = parse_rule("d:0");
  auto sim = start(o);
  CHECK(reachable(*this, sim) == pairs{{1, 3}, {3, 1}});
  CHECK(state(sim).counters().dropped_rule == 4);
  CHECK(count_lines("\"reason\":\"rule\"") == 4);
  // Cleared: everything passes again.
  REQUIRE(control(sim, [] {
    auto c = ctl(sim_action::clear_rule);
    c.server = 2;
    return c;
  }()));
  CHECK(reachable(*this, sim) == all_pairs);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule d:N drops from N after the rule "
                              "was set") {
  auto sim = start(sim_options{});
  pass(1s);
  REQUIRE(control(sim, rule_for(3, "d:2")));
  pass(1999ms);
  CHECK(reachable(*this, sim) == all_pairs);
  pass(1ms);
  CHECK(reachable(*this, sim) == pairs{{1, 2}, {2, 1}});
  // Setting the rule again restarts its clock.
  REQUIRE(control(sim, rule_for(3, "d:2")));
  CHECK(reachable(*this, sim) == all_pairs);
}
