#pragma once

// Every setting of the network-fault simulator, the seed included, in one
// validated struct (model: tigerbeetle's PacketSimulatorOptions). Every
// random choice the simulator makes comes from `seed`.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

/// Per-server fault rule, as the [faults] section and `/faults <server> <rule>`
/// write it:
///   p:10::a:20::c:30   delay messages of phase 1 (prepare, promise) 10 s,
///                      phase 2 (accept, accepted) 20 s, commit (decide) 30 s,
///                      on their way to this server
///   d:0                drop every peer message to and from this server, from
///                      0 s after the rule is set
/// Numbers are seconds; a suffix "ms" makes them milliseconds (p:250ms).
struct server_rule {
  int64_t prepare_delay_ms = -1; ///< -1: no rule for this phase.
  int64_t accept_delay_ms = -1;
  int64_t commit_delay_ms = -1;
  int64_t drop_after_ms = -1;    ///< -1: no drop rule.

  bool empty() const {
    return prepare_delay_ms < 0 && accept_delay_ms < 0 && commit_delay_ms < 0
           && drop_after_ms < 0;
  }
};

/// Parses a rule; throws std::invalid_argument with the reason.
server_rule parse_rule(const std::string& text);
/// The rule in its text form.
std::string to_string(const server_rule& r);

struct sim_options {
  bool enabled = false;      ///< Off: peers talk directly, no simulator.
  uint64_t seed = 1;
  uint32_t delay_min_ms = 0; ///< Every message waits a random time in
  uint32_t delay_max_ms = 0; ///< [delay_min_ms, delay_max_ms].
  double drop_probability = 0;      ///< Each message is lost with this.
  double duplicate_probability = 0; ///< Each message arrives twice with this.
  bool omission = false;            ///< Rotate an omission-faulty server.
  uint32_t rotation_min_ms = 180000; ///< The faulty server changes every
  uint32_t rotation_max_ms = 300000; ///< [min, max] (3 to 5 minutes).
  std::map<server_id, server_rule> rules;
  /// Network partitions: servers in different groups cannot talk; the
  /// servers in no group form one more group together. Empty: no partition.
  /// `{{3}}` isolates server 3; `{{1, 2}}` splits {1, 2} from the rest.
  std::vector<std::vector<server_id>> partitions;

  /// Throws std::invalid_argument naming the bad setting.
  void validate() const;
};

} // namespace cafchat
