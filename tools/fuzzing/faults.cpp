// Fuzz harness: the /faults grammar (actors/simulator/faults_command.cpp)
// and the rule grammar it passes on (parse_rule in sim_options.cpp), on the
// words the shell splits a line into. A bad command is refused with the
// usage line, a bad rule with std::invalid_argument; nothing else.
//
// Input: the text after "/faults ".
//
// Checked besides: what parses is in range (a probability finite, a server
// id above 0, a split's ids above 0), and a rule that parses prints as text
// that parses to the same rule.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "actors/shell/input_line.hpp"
#include "actors/simulator/faults_command.hpp"
#include "actors/simulator/sim_options.hpp"

using namespace cafchat;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz-faults: %s\n", what.c_str());
  std::abort();
}

bool same(const server_rule& a, const server_rule& b) {
  return a.prepare_delay_ms == b.prepare_delay_ms
         && a.accept_delay_ms == b.accept_delay_ms
         && a.commit_delay_ms == b.commit_delay_ms
         && a.drop_after_ms == b.drop_after_ms;
}

void rule(const std::string& text) {
  server_rule r;
  try {
    r = parse_rule(text);
  } catch (const std::invalid_argument&) {
    return;
  }
  auto printed = to_string(r);
  server_rule back;
  try {
    back = parse_rule(printed);
  } catch (const std::invalid_argument& e) {
    fail("rule '" + text + "' prints as '" + printed
         + "', which does not parse: " + e.what());
  }
  if (!same(r, back))
    fail("rule '" + text + "' prints as '" + printed
         + "', which parses to another rule");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string text{reinterpret_cast<const char*>(bytes), size};
  // One line, as the shell reads it.
  if (text.find('\n') != std::string::npos)
    return 0;
  auto in = parse_input_line("/faults " + text);
  if (in.kind != input_line::command || in.name != "/faults")
    fail("'/faults " + text + "' is not the /faults command");
  auto ctl = parse_faults_command(in.args);
  if (!ctl)
    return 0;
  switch (ctl->action) {
    case sim_action::drop:
    case sim_action::duplicate:
      if (!std::isfinite(ctl->probability))
        fail("a probability that is not finite: " + text);
      break;
    case sim_action::isolate:
    case sim_action::clear_rule:
      if (ctl->server == 0)
        fail("server 0: " + text);
      break;
    case sim_action::set_rule:
      if (ctl->server == 0)
        fail("server 0: " + text);
      rule(ctl->rule);
      break;
    case sim_action::split:
      for (auto id : ctl->servers)
        if (id == 0)
          fail("server 0 in a split: " + text);
      break;
    default:
      break;
  }
  // The rule grammar on its own, on the whole input.
  rule(text);
  return 0;
}
