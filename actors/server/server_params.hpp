#pragma once

// Every tunable of a server's roles: each role's options as its core takes
// them (in ticks and counts), filled and validated by the node configuration
// (node/config.cpp) before any actor starts. A server adds only who it is
// (its id, the cluster's servers, its incarnation) when it spawns the roles.
//
// The options' own defaults are those of a default configuration
// (configs/single-host.ini), as tests/node/config_test.cpp checks.

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/learner/learner_core.hpp"
#include "actors/proposer/proposer_core.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

/// What one client may use of a server ([limits], node/config_keys.cpp;
/// docs/security.md). 0: no limit.
struct client_limits {
  uint32_t commands_per_submit = 256;
  uint32_t rate_per_s = 1000;  ///< New commands a second, per client,
  uint32_t rate_burst = 5000;  ///< saved up to this many (token bucket).
  uint64_t send_queue_max_bytes = 8u << 20;
  uint32_t sessions_per_server = 1024;
  uint32_t sessions_per_connection = 64; ///< Per remote CAF node.
};

struct server_params {
  std::vector<server_id> servers; ///< Every server of the cluster.
  uint32_t tick_ms = 10;          ///< One tick of every role's timer.
  proposer_options proposer;
  acceptor_options acceptor;
  learner_options learner;
  uint32_t history_chunk = 512;   ///< History entries per reply to a client.
  uint32_t max_text_bytes = 4096;
  client_limits limits;
  /// Check each role's invariants after every handler (set_check_invariants).
  bool check_invariants = false;
  // TEST ONLY: each breaks one safety rule, so that the simulation shows it
  // catches the violation (tests/sim, tools/simulate --break ...). The
  // roles' own break_*_rule options are the others.
  bool break_sync_rule = false;     ///< Acceptors reply before their write.
  bool break_withdraw_rule = false; ///< Clients never withdraw (tests only).
  bool break_time_rule = false;     ///< Entry times follow leaders' clocks.

  // -- settings that several roles follow: set them here, never in one role --

  /// Phase timeout of the proposer, and the acceptor's first rejoin probe.
  void set_retry_ticks(uint32_t t) {
    proposer.retry_ticks = t;
    acceptor.probe_ticks = t;
  }
  /// No role's timeout grows beyond this.
  void set_timeout_max_ticks(uint32_t t) {
    proposer.timeout_max_ticks = t;
    acceptor.probe_max_ticks = t;
    learner.timeout_max_ticks = t;
  }
  /// Chosen slots a learner holds above a hole, and so how far behind a
  /// rejoining acceptor's learner may be when the rejoin's phase 1 starts.
  void set_buffer_max(uint32_t n) {
    learner.buffer_max = n;
    acceptor.rejoin_lag_max = n;
  }
  void set_check_invariants(bool on) {
    check_invariants = on;
    learner.check = on;
  }

  /// Throws std::logic_error if settings that several roles follow were set
  /// in one role only (not through the setters above).
  void validate() const {
    if (acceptor.probe_ticks != proposer.retry_ticks
        || acceptor.probe_max_ticks != proposer.timeout_max_ticks
        || learner.timeout_max_ticks != proposer.timeout_max_ticks
        || acceptor.rejoin_lag_max != learner.buffer_max
        || learner.check != check_invariants)
      throw std::logic_error("server_params: a setting that several roles "
                             "follow was set in one role only");
  }
};

} // namespace cafchat
