#pragma once

// The /faults command's grammar, beside the grammar of its rules
// (sim_options.hpp, parse_rule): the words after "/faults" become one
// sim_control for the network-fault simulator, which checks the values
// (probabilities, delays, server ids, rules) and refuses bad ones itself.
//
//   (nothing)                         query: show the settings
//   off                               all_off: no faults at all
//   heal                              heal: remove every partition
//   drop <p> | dup <p>                drop, duplicate with probability p
//   delay <min_ms> <max_ms>           delay every message in [min, max] ms
//   omission on|off [<min_s> <max_s>] omission fault on or off, and the
//                                     rotation range in seconds
//   isolate <server>                  cut a server off
//   split <a,b,...>                   these servers against the others
//   <server> <rule>                   set_rule, e.g. "2 p:10::a:20", "3 d:0"
//   <server> clear                    clear_rule
//
// Numbers are decimal (a fraction of a server id or a millisecond is cut
// off); anything else is refused with the usage line.

#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "messages/control.hpp"

namespace cafchat {

/// The usage line a refused /faults command shows.
extern const char* const faults_usage;

/// Parses the words after "/faults"; an error is a cafchat `invalid_fault`
/// whose explanation is `faults_usage`.
caf::expected<sim_control>
parse_faults_command(const std::vector<std::string>& args);

} // namespace cafchat
