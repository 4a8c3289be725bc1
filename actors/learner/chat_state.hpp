#pragma once

// The replicated state machine: the chat history. Learners apply decided
// slots to it in slot order; every server applies the same slots in the same
// order and so holds the same history.
//
// Exactly-once: the state keeps, per client, the highest sequence number it
// applied, and applies a command only if it is the next one (seq = last + 1).
// A retry of an applied command (after a reroute, say) is skipped, and so is a
// command that overtook an earlier one of the same client; the client resends
// everything unacknowledged, in order, so the skipped one comes back in turn.
// Per-client order and no duplicates follow.
//
// A withdrawal (command::withdrawal: a seq with no text) uses up its seq
// without adding an entry. A client sends one for a message a server
// refused, so that its later messages are not held back behind a seq that
// would never come; if the refused message was ordered after all (through
// another server, before a reroute), the withdrawal comes too late and is
// skipped like any retry.
//
// Times: an entry gets its batch's time (value::time_ms, stamped once by the
// leader that formed the batch), or the previous entry's time if that is
// later. A leader stamps no batch earlier than what it learned, but the
// values of two leaders can still interleave in the log (an old leader's
// slot, accepted by a minority, is adopted by a third leader next to a slot
// of the second), and their clocks differ. The rule is a function of the
// history alone, so every replica computes the same times, and they never
// decrease along the history.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "messages/client.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

class chat_state {
public:
  using client_table = std::unordered_map<uint64_t, uint64_t>;

  chat_state() = default;
  /// The state after `history_size` entries, the last one at `last_time_ms`.
  chat_state(uint64_t history_size, client_table clients,
             uint64_t last_time_ms = 0)
    : size_(history_size), clients_(std::move(clients)),
      last_time_(last_time_ms) {}

  /// Applies one decided slot; returns the chat entries it added (none for a
  /// no-op or a slot of duplicates). `touched` receives the clients whose
  /// last applied seq changed, with the new value; `withdrawn` the (client,
  /// seq) of every withdrawal applied.
  std::vector<chat_entry>
  apply(uint64_t slot, const value& val,
        std::vector<std::pair<uint64_t, uint64_t>>* touched = nullptr,
        std::vector<std::pair<uint64_t, uint64_t>>* withdrawn = nullptr);

  /// Highest seq applied for `client` (0 if none).
  uint64_t last_seq(uint64_t client) const {
    auto i = clients_.find(client);
    return i == clients_.end() ? 0 : i->second;
  }
  /// Number of chat messages, i.e. the index of the last one.
  uint64_t size() const { return size_; }
  /// The time of the last entry (0 before the first).
  uint64_t last_time() const { return last_time_; }
  const client_table& clients() const { return clients_; }

  /// TEST ONLY: an entry takes its batch's time even when that is earlier
  /// than the previous entry's (the simulation must notice).
  void break_time_rule() { keep_times_rising_ = false; }

private:
  uint64_t size_ = 0;
  client_table clients_;
  uint64_t last_time_ = 0;
  bool keep_times_rising_ = true;
};

} // namespace cafchat
