#pragma once

// The acceptor actor: a thin CAF shell around acceptor_core.
//
//   prepare / accept --> core --> buffer (writes, replies) --+
//                                                            | flush (queued
//   ... more prepares/accepts already in the mailbox ...     | behind them)
//                                                            v
//                               storage.write(all writes); send all replies
//
// Durability before replies: no promise, accepted or learn message leaves
// before the write that justifies it is durable. Group commit falls out of
// the flush being queued behind the mailbox: one sync covers every request
// that arrived together.

#include <memory>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <optional>

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/common/event_log.hpp"
#include "actors/common/peer_links.hpp"
#include "actors/storage/storage.hpp"

namespace cafchat {

struct acceptor_config {
  server_id id = 0;
  std::vector<server_id> servers; ///< Every server (for the recovery probe).
  uint32_t tick_ms = 10;          ///< Probes go out every 5 ticks.
  uint32_t probe_ticks = 20;      ///< Probes without a holder of state.
  uint64_t incarnation = 0;       ///< Unique per start of this server.
  bool fresh_store = false;       ///< Storage was created, not reopened.
  std::shared_ptr<acceptor_storage> storage;
  bool learn_votes = false;      ///< Tell every learner, not just our own.
  bool check_invariants = false; ///< Check the core after every handler.
  /// Test-only fault: accept below the promise (proves the checker has teeth).
  bool break_accept_rule = false;
  event_log_ptr log;
  caf::actor simulator;
  std::vector<server_info> peers;
};

struct acceptor_actor_state {
  static inline const char* name = "acceptor";
  std::optional<acceptor_core> core;
  peer_links links;
  // Group commit: what the next flush makes durable, then sends.
  acceptor_writes writes;
  std::vector<outgoing> replies;
  bool flush_queued = false;
};

caf::behavior acceptor_actor(caf::stateful_actor<acceptor_actor_state>* self,
                             acceptor_config cfg);

} // namespace cafchat
