#pragma once

// In-memory storage: survives the server's actors (not its process). For
// tests, benchmarks and the single-host demo; never the default of a cluster
// config. A mutex guards it because a restarted server's new actors may start
// while the old ones finish their last message.

#include <mutex>
#include <unordered_map>

#include "actors/storage/storage.hpp"

namespace cafchat {

class memory_acceptor_storage : public acceptor_storage {
public:
  acceptor_state load() override;
  void write(const acceptor_writes& w) override;
  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override;
  /// Number of write calls (each one a "sync").
  uint64_t syncs() const;

private:
  mutable std::mutex mtx_;
  acceptor_state state_;
  uint64_t syncs_ = 0;
};

class memory_learner_storage : public learner_storage {
public:
  learner_state load() override;
  void write(const learner_writes& w) override;
  std::vector<decide> decided(uint64_t first, size_t max) override;
  std::vector<chat_entry> history(uint64_t first, size_t max) override;

private:
  mutable std::mutex mtx_;
  std::vector<decide> slots_;        ///< slots_[i] is slot i + 1.
  std::vector<chat_entry> history_;  ///< history_[i] is index i + 1.
  std::unordered_map<uint64_t, uint64_t> clients_;
};

/// Fresh in-memory storage for one server.
server_storage make_memory_storage();

} // namespace cafchat
