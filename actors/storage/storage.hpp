#pragma once

// Storage interfaces: what a server keeps "on disk". A server's storage
// outlives its actors, as a disk outlives a process: /restart and a real
// process restart hand the same storage to the new actors, so an acceptor
// never forgets a promise (forgetting one could let two values be chosen).
//
// Implementations: memory_storage.hpp (tests, benchmarks, the single-host
// demo) and, for real clusters, the LMDB one. Every write call is durable
// when it returns; the acceptor actor calls it before it replies.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/learner/learner_core.hpp"
#include "messages/client.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

/// Storage that cannot be used: a store that cannot be opened, is not this
/// server's or does not decode, a write that failed (a full disk, a dead
/// one). The message names the store and what is wrong. An operating error,
/// not a broken invariant: the server stops, its peers go on.
class storage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class acceptor_storage {
public:
  virtual ~acceptor_storage() = default;
  /// The durable acceptor state, as written so far.
  virtual acceptor_state load() = 0;
  /// Makes `w` durable (all of it or nothing).
  virtual void write(const acceptor_writes& w) = 0;
  /// Accepted slots numbered `first` or higher, in slot order, at most
  /// `max`. Lets an acceptor keep only a window of its log in memory.
  virtual std::vector<accepted_slot> accepted_range(uint64_t first,
                                                    size_t max) = 0;
  /// The highest ballot round the server's proposer has used (0: none).
  /// Kept beside the acceptor's state: a proposer must never reuse a
  /// ballot, not even after a restart.
  virtual uint64_t proposer_round() = 0;
  /// Makes `round` durable as the proposer's highest round (only rises).
  virtual void write_proposer_round(uint64_t round) = 0;
};

/// What the learner persists per batch of applied slots, atomically.
struct learner_writes {
  std::vector<decide> slots;       ///< Newly applied slots, in order.
  std::vector<chat_entry> entries; ///< History entries they added.
  std::vector<std::pair<uint64_t, uint64_t>> clients; ///< client -> last seq.

  bool empty() const { return slots.empty(); }
};

/// The learner's durable state on start.
struct learner_state {
  uint64_t applied_upto = 0; ///< Every slot up to here is applied.
  uint64_t history_size = 0;
  uint64_t last_time_ms = 0; ///< The last history entry's time (0: none).
  std::vector<std::pair<uint64_t, uint64_t>> clients;
};

/// A server's learner store, which is also its learner core's window on the
/// decided log (learner_log::decided: applied slots from `first`, at most
/// `max`, contiguous).
class learner_storage : public learner_log {
public:
  virtual learner_state load() = 0;
  /// Makes `w` durable (all of it or nothing). Throws std::logic_error,
  /// writing nothing, unless the slots continue the applied slots and the
  /// entries the history, without gaps.
  virtual void write(const learner_writes& w) = 0;
  /// History entries from index `first`, at most `max`.
  virtual std::vector<chat_entry> history(uint64_t first, size_t max) = 0;
};

/// Both stores of one server.
struct server_storage {
  std::shared_ptr<acceptor_storage> acceptor;
  std::shared_ptr<learner_storage> learner;
  /// True when the storage held nothing of this server when it was opened:
  /// a new server, or one that lost its disk. Only a fresh store of a
  /// cluster declared new (bootstrap) may vote at once; any other fresh
  /// store rejoins first (actors/acceptor/acceptor_core.hpp).
  bool fresh = true;
};

} // namespace cafchat
