#pragma once

// The proposer actor: a thin CAF shell around proposer_core. It turns a
// periodic `tick` into core.tick(), feeds every peer message to the core,
// makes what the core returns to persist durable, and then sends what it
// returns through the peer links (actors/common/core_step.hpp). It
// campaigns only once its acceptor says it votes (`joined`).

#include <functional>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <optional>

#include "actors/common/event_log.hpp"
#include "actors/common/paxos_monitor.hpp"
#include "actors/common/peer_links.hpp"
#include "actors/proposer/proposer_core.hpp"
#include "actors/storage/storage.hpp"

namespace cafchat {

struct proposer_config {
  proposer_options opts;
  /// Where the proposer's highest ballot round is kept (beside its
  /// acceptor's state); may be null in tests that need no restarts.
  std::shared_ptr<acceptor_storage> storage;
  uint32_t tick_ms = 10;
  bool check_invariants = false;
  event_log_ptr log;
  caf::actor simulator;
  std::vector<server_info> peers;
  /// The wall time, UTC milliseconds, that stamps batches (value::time_ms):
  /// node/ passes the system clock (nothing below node/ reads it). Null:
  /// the actor's clock (simulated time under the test coordinator).
  std::function<uint64_t()> wall_clock;
  /// TEST ONLY: sees every proposal (tests/sim); may be null.
  std::shared_ptr<paxos_monitor> monitor;
};

struct proposer_actor_state {
  static inline const char* name = "proposer";
  std::optional<proposer_core> core;
  peer_links links;
  uint64_t epoch = 0; ///< The server's storage epoch (its acceptor says).
  uint64_t logged_timeouts[3] = {0, 0, 0}; ///< As the last "timeouts" line.
};

caf::behavior proposer_actor(caf::stateful_actor<proposer_actor_state>* self,
                             proposer_config cfg);

} // namespace cafchat
