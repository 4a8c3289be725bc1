#pragma once

// Messages between a chat client, its server (the client session) and the
// server's learner. Each struct is followed by its `inspect`; all are
// registered in messages/registry.cpp. Like paxos.hpp this header is
// CAF-free: the chat state machine uses it. Session set-up, which carries
// actor handles, is in control.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

/// Client -> session -> proposer: order these chat messages, in this order.
/// A client sends everything it has to send at once in one submit (batching
/// starts at the client). The session refuses text over the configured
/// maximum, or not UTF-8, with `rejected`.
struct submit {
  std::vector<command> commands;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit& x) {
  return f(x.commands);
}

/// One line of the chat history: the `index`-th chat message (from 1),
/// decided in `slot`.
struct chat_entry {
  uint64_t index = 0;
  uint64_t slot = 0;
  uint64_t client = 0;
  uint64_t seq = 0;
  std::string from;
  std::string text;
  /// When it was sent: its batch's time (value::time_ms), or the previous
  /// entry's if that is later, so that times never decrease along the
  /// history (actors/learner/chat_state.hpp). UTC milliseconds.
  uint64_t time_ms = 0;

  friend bool operator==(const chat_entry& a, const chat_entry& b) {
    return a.index == b.index && a.slot == b.slot && a.client == b.client
           && a.seq == b.seq && a.from == b.from && a.text == b.text
           && a.time_ms == b.time_ms;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_entry& x) {
  return f(x.index, x.slot, x.client, x.seq, x.from, x.text, x.time_ms);
}

/// Session -> client: history entries in index order, contiguous, without
/// gaps across consecutive messages. `withdrawn` lists the (client, seq) of
/// withdrawals the same slots applied: those seqs are settled, with no entry.
struct delivered {
  std::vector<chat_entry> entries;
  std::vector<std::pair<uint64_t, uint64_t>> withdrawn;
  /// Set on the chunks a session reads from the history for its client
  /// (not on live entries); `history_size` is then how many entries the
  /// server's history held when the chunk was read. The first chunk a client
  /// gets says how much history there was when it joined.
  bool from_history = false;
  uint64_t history_size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivered& x) {
  return f(x.entries, x.withdrawn, x.from_history, x.history_size);
}

/// Session -> client: every command of `client` up to `seq` is applied (a
/// cumulative acknowledgement, possible because the state machine applies a
/// client's commands in seq order).
struct acknowledged {
  uint64_t client = 0;
  uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, acknowledged& x) {
  return f(x.client, x.seq);
}

/// Client -> session: the client has taken in every history entry up to
/// `index`. The session sends at most `send_queue_max_bytes` (by
/// entry_bytes) beyond what its client confirmed: a client that stops
/// reading is disconnected instead of filling the server's memory.
struct received {
  uint64_t index = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, received& x) {
  return f(x.index);
}

/// What an entry counts for in a session's send queue: its text and name
/// and a fixed overhead for its numbers and framing.
inline uint64_t entry_bytes(const chat_entry& e) {
  return 64 + e.from.size() + e.text.size();
}

/// Session -> client: the command was refused and will never be applied.
struct rejected {
  uint64_t client = 0;
  uint64_t seq = 0;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rejected& x) {
  return f(x.client, x.seq, x.reason);
}

/// Session -> learner: send history entries from `first_index` on, at most
/// `max_entries`.
struct history_request {
  uint64_t first_index = 1;
  uint32_t max_entries = 0;
  uint64_t client = 0; ///< The session's client (for `client_seq`).
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_request& x) {
  return f(x.first_index, x.max_entries, x.client);
}

/// Learner -> session: a chunk of history. With `live` set the session has
/// reached the end of the history and is now subscribed: every later entry
/// arrives as `delivered`, in order, right after this chunk.
struct history_reply {
  std::vector<chat_entry> entries;
  bool live = false;
  /// The highest seq of the asking client applied so far (messages and
  /// withdrawals alike).
  uint64_t client_seq = 0;
  /// Entries in the history when the learner answered.
  uint64_t history_size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_reply& x) {
  return f(x.entries, x.live, x.client_seq, x.history_size);
}

} // namespace cafchat
