#pragma once

// The acceptor actor: a thin CAF shell around acceptor_core.
//
//   prepare / accept --> core --> buffer (writes, sends) ----+
//                                                            | flush (queued
//   ... more prepares/accepts already in the mailbox ...     | behind them)
//                                                            v
//                               storage.write(all writes); send all messages
//
// Durability before replies: no promise, accepted or learn message leaves
// before the write that justifies it is durable. Group commit falls out of
// the flush being queued behind the mailbox: one sync covers every request
// that arrived together.

#include <memory>
#include <optional>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/common/core_step.hpp"
#include "actors/common/event_log.hpp"
#include "actors/common/paxos_monitor.hpp"
#include "actors/common/peer_links.hpp"
#include "actors/storage/storage.hpp"

namespace cafchat {

struct acceptor_config {
  acceptor_options opts;
  uint32_t tick_ms = 10;
  std::shared_ptr<acceptor_storage> storage;
  /// The server's learner storage: a rejoined acceptor reports slots below
  /// its recovered floor from the decided log.
  std::shared_ptr<learner_storage> decided;
  bool check_invariants = false; ///< Check the core after every handler.
  /// TEST ONLY: send replies before the writes they depend on are durable.
  bool break_sync_rule = false;
  event_log_ptr log;
  /// Sees every promise and acceptance as it leaves (tests: the global
  /// Paxos invariants); may be null.
  std::shared_ptr<paxos_monitor> monitor;
  caf::actor simulator;
  std::vector<server_info> peers;
};

class acceptor_storage_log;

struct acceptor_actor_state {
  static inline const char* name = "acceptor";
  std::shared_ptr<acceptor_log> log;
  std::optional<acceptor_core> core;
  peer_links links;
  /// Group commit: what the next flush makes durable, then sends.
  held_output<acceptor_writes> held;
  /// TEST ONLY (break_sync_rule): writes that wait until after the replies.
  std::optional<acceptor_writes> late;
};

caf::behavior acceptor_actor(caf::stateful_actor<acceptor_actor_state>* self,
                             acceptor_config cfg);

} // namespace cafchat
