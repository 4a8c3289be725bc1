#pragma once

// The learner actor: a thin CAF shell around learner_core and the chat state
// machine. Decided slots come out of the core in slot order; the actor applies
// them to the chat history, writes slots and history to storage in one
// write, streams the new history entries to every subscribed client
// session, one shared `delivered` message per batch, and then sends what the
// core says (catch-up, and how far it got to its own proposer and acceptor).
//
// Sessions read history with `history_request`; the reply that reaches the
// end of the history subscribes the session, and from then on it receives
// every entry exactly once and in order (all from this one actor, so FIFO).
// Peers catch up with `catchup_request`, which the core answers from storage.

#include <memory>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <optional>

#include "actors/common/event_log.hpp"
#include "actors/common/peer_links.hpp"
#include "actors/learner/chat_state.hpp"
#include "actors/learner/learner_core.hpp"
#include "actors/storage/storage.hpp"

namespace cafchat {

struct learner_config {
  learner_options opts;
  uint32_t tick_ms = 10;
  std::shared_ptr<learner_storage> storage;
  bool check_invariants = false;
  event_log_ptr log;
  caf::actor simulator;
  std::vector<server_info> peers;
  uint32_t history_chunk_max = 512; ///< Entries per history_reply, at most.
  /// TEST ONLY: entries take their batch's time even when it is earlier
  /// than the previous entry's (chat_state.hpp).
  bool break_time_rule = false;
};

struct learner_actor_state {
  static inline const char* name = "learner";
  std::optional<learner_core> core;
  chat_state chat;
  peer_links links;
  std::vector<caf::actor> live; ///< Subscribed sessions.
};

caf::behavior learner_actor(caf::stateful_actor<learner_actor_state>* self,
                            learner_config cfg);

} // namespace cafchat
