#pragma once

// Every tunable of a server's roles, in ticks and counts, validated by the
// node configuration (node/config.cpp) before any actor starts.

#include <cstdint>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

struct server_params {
  std::vector<server_id> servers; ///< Every server of the cluster.
  uint32_t tick_ms = 10;          ///< One tick of every role's timer.
  uint32_t heartbeat_ticks = 5;
  uint32_t election_ticks = 50;
  uint32_t retry_ticks = 10;
  uint32_t catchup_ticks = 10;
  /// No timeout grows beyond this, however slow the network (10 minutes).
  uint32_t timeout_max_ticks = 60000;
  uint32_t window = 64;
  uint32_t batch_max = 256;
  uint32_t batch_bytes_max = 1u << 20;
  uint32_t pending_max = 100000;
  uint32_t catchup_max_slots = 256;
  /// Chosen slots a learner holds above a hole; at least `window`, since a
  /// leader decides no further than `window` past the chosen prefix.
  uint32_t buffer_max = 4096;
  uint32_t history_chunk = 512;
  uint32_t max_text_bytes = 4096;
  bool prevote = true;
  bool learn_votes = false;
  bool check_invariants = false;
  // TEST ONLY: each breaks one safety rule, so that the simulation shows it
  // catches the violation (tests/sim, tools/simulate --break ...).
  bool break_accept_rule = false; ///< Acceptors accept below their promise.
  bool break_rejoin_rule = false; ///< Lost storage votes at once.
  bool break_ballot_rule = false; ///< Proposers forget their round on restart.
  bool break_sync_rule = false;   ///< Acceptors reply before their write.
  bool break_window_rule = false; ///< Leaders decide past the window.
  bool break_withdraw_rule = false; ///< Clients never withdraw (tests only).
  bool break_time_rule = false;   ///< Entry times follow leaders' clocks.
  uint64_t seed = 1;
};

} // namespace cafchat
