#include "actors/storage/memory_storage.hpp"

#include <stdexcept>
#include <unordered_map>

namespace cafchat {

acceptor_state memory_acceptor_storage::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_;
}

void memory_acceptor_storage::write(const acceptor_writes& w) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (w.promised && *w.promised > state_.promised)
    state_.promised = *w.promised;
  for (auto& a : w.accepted) {
    auto& cur = state_.accepted[a.slot];
    if (cur.slot == 0 || a.bal >= cur.bal)
      cur = a;
  }
  ++syncs_;
}

std::vector<accepted_slot>
memory_acceptor_storage::accepted_range(uint64_t first, size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<accepted_slot> out;
  for (auto i = state_.accepted.lower_bound(first);
       i != state_.accepted.end() && out.size() < max; ++i)
    out.push_back(i->second);
  return out;
}

uint64_t memory_acceptor_storage::syncs() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return syncs_;
}

learner_state memory_learner_storage::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  learner_state st;
  st.applied_upto = slots_.size();
  st.history_size = history_.size();
  st.clients.assign(clients_.begin(), clients_.end());
  return st;
}

void memory_learner_storage::write(const learner_writes& w) {
  std::lock_guard<std::mutex> guard{mtx_};
  // Check all of it before changing anything: a write is all or nothing, as
  // in the LMDB storage, whose transaction simply aborts.
  auto check = [](const char* what, uint64_t number, uint64_t last) {
    if (number != last + 1)
      throw std::logic_error("learner storage: " + std::string{what} + " "
                             + std::to_string(number) + " written after "
                             + std::to_string(last));
  };
  for (size_t i = 0; i < w.slots.size(); ++i)
    check("slot", w.slots[i].slot, slots_.size() + i);
  for (size_t i = 0; i < w.entries.size(); ++i)
    check("entry", w.entries[i].index, history_.size() + i);
  slots_.insert(slots_.end(), w.slots.begin(), w.slots.end());
  history_.insert(history_.end(), w.entries.begin(), w.entries.end());
  for (auto& [client, seq] : w.clients)
    clients_[client] = seq;
}

std::vector<decide> memory_learner_storage::decided(uint64_t first,
                                                    size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<decide> out;
  for (uint64_t s = std::max<uint64_t>(first, 1);
       s <= slots_.size() && out.size() < max; ++s)
    out.push_back(slots_[s - 1]);
  return out;
}

std::vector<chat_entry> memory_learner_storage::history(uint64_t first,
                                                        size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<chat_entry> out;
  for (uint64_t i = std::max<uint64_t>(first, 1);
       i <= history_.size() && out.size() < max; ++i)
    out.push_back(history_[i - 1]);
  return out;
}

server_storage make_memory_storage() {
  return server_storage{std::make_shared<memory_acceptor_storage>(),
                        std::make_shared<memory_learner_storage>()};
}

} // namespace cafchat
