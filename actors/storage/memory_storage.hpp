#pragma once

// In-memory storage: survives the server's actors (not its process). For
// tests, benchmarks and the single-host demo; never the default of a cluster
// config. Like a disk it keeps records encoded (messages/codec.hpp): about
// half the memory of live objects, and one allocation per record. A mutex
// guards it because a restarted server's new actors may start while the old
// ones finish their last message.

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors/storage/storage.hpp"

namespace cafchat {

class memory_acceptor_storage : public acceptor_storage {
public:
  acceptor_state load() override;
  void write(const acceptor_writes& w) override;
  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override;
  uint64_t proposer_round() override;
  void write_proposer_round(uint64_t round) override;
  /// Number of write calls (each one a "sync").
  uint64_t syncs() const;

private:
  mutable std::mutex mtx_;
  ballot promised_;
  acceptor_meta meta_;
  uint64_t round_ = 0;
  std::map<uint64_t, std::pair<ballot, std::string>> accepted_; ///< Encoded.
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
  std::vector<std::string> slots_;   ///< slots_[i]: slot i + 1, encoded.
  std::vector<std::string> history_; ///< history_[i]: index i + 1, encoded.
  std::unordered_map<uint64_t, uint64_t> clients_;
};

/// Fresh in-memory storage for one server.
server_storage make_memory_storage();

} // namespace cafchat
