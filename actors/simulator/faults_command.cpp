#include "actors/simulator/faults_command.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "messages/errors.hpp"

namespace cafchat {

const char* const faults_usage
  = "usage: /faults [off | <server> <rule>|clear | drop <p> | dup <p> | "
    "delay <min_ms> <max_ms> | omission on [<min_s> <max_s>]|off | "
    "isolate <server> | split <a,b,...> | heal]";

namespace {

/// `s` as a number, if it is one (all of it).
bool number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

/// `s` as a count of `unit`s that fits in 32 bits once scaled, if it is one.
bool count(const std::string& s, double unit, uint32_t& out) {
  double x = 0;
  if (!number(s, x) || !(x >= 0)
      || x * unit > std::numeric_limits<uint32_t>::max())
    return false;
  out = static_cast<uint32_t>(x * unit);
  return true;
}

/// `s` as a server id (above 0), if it is one.
bool server(const std::string& s, server_id& out) {
  return count(s, 1, out) && out > 0;
}

/// "1,2,3" as server ids, if every part is one (no fraction here).
bool server_list(const std::string& s, std::vector<server_id>& out) {
  std::istringstream in{s};
  for (std::string part; std::getline(in, part, ',');) {
    char* end = nullptr;
    auto v = std::strtoul(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v == 0
        || v > std::numeric_limits<server_id>::max())
      return false;
    out.push_back(static_cast<server_id>(v));
  }
  return true;
}

bool parse(const std::vector<std::string>& args, sim_control& ctl) {
  if (args.empty()) {
    ctl.action = sim_action::query;
    return true;
  }
  auto& verb = args[0];
  auto n = args.size();
  if (verb == "off" && n == 1) {
    ctl.action = sim_action::all_off;
    return true;
  }
  if (verb == "heal" && n == 1) {
    ctl.action = sim_action::heal;
    return true;
  }
  if ((verb == "drop" || verb == "dup") && n == 2) {
    ctl.action = verb == "drop" ? sim_action::drop : sim_action::duplicate;
    // Out of [0, 1] is for the simulator to refuse; not a finite number
    // cannot even be sent (messages/control.hpp, finite_or_refuse).
    return number(args[1], ctl.probability) && std::isfinite(ctl.probability);
  }
  if (verb == "delay" && n == 3) {
    ctl.action = sim_action::delay;
    return count(args[1], 1, ctl.min_ms) && count(args[2], 1, ctl.max_ms);
  }
  if (verb == "omission" && n >= 2 && (args[1] == "on" || args[1] == "off")) {
    ctl.action = sim_action::omission;
    ctl.on = args[1] == "on";
    if (n == 2)
      return true;
    return n == 4 && count(args[2], 1000, ctl.min_ms)
           && count(args[3], 1000, ctl.max_ms);
  }
  if (verb == "isolate" && n == 2) {
    ctl.action = sim_action::isolate;
    return server(args[1], ctl.server);
  }
  if (verb == "split" && n == 2) {
    ctl.action = sim_action::split;
    return server_list(args[1], ctl.servers);
  }
  if (n == 2 && server(verb, ctl.server)) {
    if (args[1] == "clear") {
      ctl.action = sim_action::clear_rule;
    } else {
      ctl.action = sim_action::set_rule;
      ctl.rule = args[1];
    }
    return true;
  }
  return false;
}

} // namespace

caf::expected<sim_control>
parse_faults_command(const std::vector<std::string>& args) {
  sim_control ctl;
  if (!parse(args, ctl))
    return make_chat_error(chat_errc::invalid_fault, faults_usage);
  return ctl;
}

} // namespace cafchat
