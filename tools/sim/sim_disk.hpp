#pragma once

// A server's disk in the simulation: in-memory storage that can lose power.
// Once cut, the next write of any role (the acceptor's group commit, the
// learner's applied slots, the proposer's ballot round) is lost and fails
// with a storage_error, as a write in flight when the power went: the
// writing actor stops, and its server with it (its roles are linked). What
// was written before stays, as a synced write does. A correct server sends
// nothing that depends on a write before the write returns, so the crash
// must break no promise it made; the checkers see that it doesn't.

#include <atomic>
#include <memory>

#include "actors/storage/memory_storage.hpp"

namespace cafchat::test {

/// The power switch shared by one disk's stores.
struct power {
  bool cut = false;     ///< The next write fails.
  uint64_t failed = 0;  ///< Writes lost so far.

  void check(const char* what) {
    if (!cut)
      return;
    cut = false;
    ++failed;
    throw storage_error(std::string{"power cut during a write of the "} + what);
  }
};

class sim_acceptor_storage : public acceptor_storage {
public:
  sim_acceptor_storage(std::shared_ptr<acceptor_storage> inner,
                       std::shared_ptr<power> pw)
    : inner_(std::move(inner)), power_(std::move(pw)) {}
  acceptor_state load() override { return inner_->load(); }
  void write(const acceptor_writes& w) override {
    power_->check("acceptor state");
    inner_->write(w);
  }
  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override {
    return inner_->accepted_range(first, max);
  }
  uint64_t proposer_round() override { return inner_->proposer_round(); }
  void write_proposer_round(uint64_t round) override {
    power_->check("proposer's round");
    inner_->write_proposer_round(round);
  }

private:
  std::shared_ptr<acceptor_storage> inner_;
  std::shared_ptr<power> power_;
};

class sim_learner_storage : public learner_storage {
public:
  sim_learner_storage(std::shared_ptr<learner_storage> inner,
                      std::shared_ptr<power> pw)
    : inner_(std::move(inner)), power_(std::move(pw)) {}
  learner_state load() override { return inner_->load(); }
  void write(const learner_writes& w) override {
    power_->check("learned slots");
    inner_->write(w);
  }
  std::vector<decide> decided(uint64_t first, size_t max) override {
    return inner_->decided(first, max);
  }
  std::vector<chat_entry> history(uint64_t first, size_t max) override {
    return inner_->history(first, max);
  }

private:
  std::shared_ptr<learner_storage> inner_;
  std::shared_ptr<power> power_;
};

/// New, empty memory storage behind one power switch.
inline server_storage make_sim_disk(std::shared_ptr<power> pw) {
  auto mem = make_memory_storage();
  server_storage s;
  s.acceptor = std::make_shared<sim_acceptor_storage>(mem.acceptor, pw);
  s.learner = std::make_shared<sim_learner_storage>(mem.learner, pw);
  s.fresh = true;
  return s;
}

} // namespace cafchat::test
