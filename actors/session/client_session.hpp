#pragma once

// A client session: one per connected client, on the client's server.
//
//   client --submit--> session --submit--> local proposer --forward--> leader
//   client <--delivered-- session <--history_reply / delivered-- learner
//
// On start it reads the history from the client's resume point in chunks
// (history_request / history_reply) and then receives live entries; either
// way the client gets every entry once, in index order. The client reads the
// acknowledgement of its own commands off those entries; the session keeps
// count too, so that a resend of commands already in the history is answered
// at once with `acknowledged` instead of being ordered again. It quits
// when its client goes away, and ends with its server (it monitors it; not
// linked: whatever ends a session, even a kill its client sends it, must not
// take the server down), which the
// client sees and answers by rerouting.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/common/event_log.hpp"
#include "actors/common/safe_text.hpp"
#include "actors/common/token_bucket.hpp"
#include "messages/control.hpp"
#include "messages/errors.hpp"

namespace cafchat {

struct session_config {
  server_id server = 0;
  uint64_t client = 0;
  std::string name;
  caf::actor client_actor;
  caf::actor front; ///< The server that opened it: the session ends with it.
  caf::actor proposer;
  caf::actor learner;
  uint32_t max_text_bytes = 4096;
  uint64_t resume_after = 0;
  uint32_t history_chunk = 512;
  // [limits] (node/config_keys.cpp); 0: no limit.
  uint32_t max_commands = 256;     ///< Commands per submit.
  uint32_t rate_per_s = 0;         ///< New commands a second (token bucket),
  uint32_t rate_burst = 0;         ///< saved up to this many.
  uint64_t send_queue_max_bytes = 0; ///< Sent ahead of `received`, at most.
  event_log_ptr log;
};

/// Why a submit is refused, or an empty string if it is acceptable.
std::string validate_text(const std::string& text, uint32_t max_text_bytes);

/// True if `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool valid_utf8(const std::string& s);

/// A chat name is at most this long (bytes of UTF-8).
constexpr size_t max_name_bytes = 64;

/// Why `name` cannot be a chat name (empty, over max_name_bytes, not UTF-8,
/// or holding a control character), or "" if it can.
std::string validate_name(const std::string& name);

/// Why a client's claim (in `hello` or `assign_request`) is refused: its
/// name, its key (actors/common/client_key.hpp) or its missing actor.
/// `what` names the part ("name", "key", "no_actor") for event logs.
struct claim_refusal {
  chat_errc code;
  std::string why;
  const char* what;
};

/// Checks what a client claims, the same way at the load balancer and at
/// a server; `message` names the message in the reason ("a hello").
std::optional<claim_refusal> check_client_claim(const std::string& name,
                                                const std::string& key,
                                                const caf::actor& client_actor,
                                                const char* message);

struct session_state {
  static inline const char* name = "client_session";
  uint64_t acked = 0;       ///< Highest own seq seen in the history.
  uint64_t next_index = 1;  ///< Next history index to hand to the client.
  bool live = false;
  token_bucket bucket;
  uint64_t admitted = 0; ///< Highest own seq passed to the proposer.
  // The send queue: bytes (entry_bytes) sent to the client, and those it
  // confirmed with `received`; (last index, bytes sent up to it) of each
  // message not yet confirmed.
  uint64_t sent_bytes = 0;
  uint64_t confirmed_bytes = 0;
  std::deque<std::pair<uint64_t, uint64_t>> unconfirmed;
  bool history_paused = false; ///< Waits for `received` to read on.
  uint64_t queued() const { return sent_bytes - confirmed_bytes; }
};

caf::behavior client_session(caf::stateful_actor<session_state>* self,
                             session_config cfg);

} // namespace cafchat
