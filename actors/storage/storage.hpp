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
#include <string>
#include <utility>
#include <vector>

#include "actors/acceptor/acceptor_core.hpp"
#include "messages/client.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

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
  std::vector<std::pair<uint64_t, uint64_t>> clients;
};

class learner_storage {
public:
  virtual ~learner_storage() = default;
  virtual learner_state load() = 0;
  /// Makes `w` durable (all of it or nothing). Throws std::logic_error,
  /// writing nothing, unless the slots continue the applied slots and the
  /// entries the history, without gaps.
  virtual void write(const learner_writes& w) = 0;
  /// Applied slots from `first`, at most `max`, contiguous.
  virtual std::vector<decide> decided(uint64_t first, size_t max) = 0;
  /// History entries from index `first`, at most `max`.
  virtual std::vector<chat_entry> history(uint64_t first, size_t max) = 0;
};

/// Both stores of one server.
struct server_storage {
  std::shared_ptr<acceptor_storage> acceptor;
  std::shared_ptr<learner_storage> learner;
  /// True when the storage held nothing of this server when it was opened:
  /// a new server, or one that lost its disk.
  bool fresh = true;
};

} // namespace cafchat
