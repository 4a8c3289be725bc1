#include "actors/storage/memory_storage.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "messages/codec.hpp"

namespace cafchat {

namespace {

template <class T>
std::string to_blob(const T& x) {
  auto bytes = encode(x);
  return std::string(bytes.begin(), bytes.end());
}

template <class T>
T from_blob(const std::string& blob) {
  auto x = decode<T>(blob.data(), blob.size());
  if (!x) // our own encoding: a failure is a bug, not bad input
    throw std::logic_error("memory storage: a record does not decode");
  return std::move(*x);
}

} // namespace

acceptor_state memory_acceptor_storage::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  acceptor_state st;
  st.promised = promised_;
  st.meta = meta_;
  for (auto& [slot, rec] : accepted_)
    st.accepted.emplace(slot, from_blob<accepted_slot>(rec.second));
  return st;
}

void memory_acceptor_storage::write(const acceptor_writes& w) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (w.promised && *w.promised > promised_)
    promised_ = *w.promised;
  if (w.meta)
    meta_ = *w.meta;
  for (auto& a : w.accepted) {
    auto i = accepted_.find(a.slot);
    if (i == accepted_.end())
      accepted_.emplace(a.slot, std::make_pair(a.bal, to_blob(a)));
    else if (a.bal >= i->second.first)
      i->second = std::make_pair(a.bal, to_blob(a));
  }
  ++syncs_;
}

std::vector<accepted_slot>
memory_acceptor_storage::accepted_range(uint64_t first, size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<accepted_slot> out;
  for (auto i = accepted_.lower_bound(first);
       i != accepted_.end() && out.size() < max; ++i)
    out.push_back(from_blob<accepted_slot>(i->second.second));
  return out;
}

uint64_t memory_acceptor_storage::proposer_round() {
  std::lock_guard<std::mutex> guard{mtx_};
  return round_;
}

void memory_acceptor_storage::write_proposer_round(uint64_t round) {
  std::lock_guard<std::mutex> guard{mtx_};
  round_ = std::max(round_, round);
  ++syncs_;
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
  if (!history_.empty())
    st.last_time_ms = from_blob<chat_entry>(history_.back()).time_ms;
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
  for (auto& d : w.slots)
    slots_.push_back(to_blob(d));
  for (auto& e : w.entries)
    history_.push_back(to_blob(e));
  for (auto& [client, seq] : w.clients)
    clients_[client] = seq;
}

std::vector<decide> memory_learner_storage::decided(uint64_t first,
                                                    size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<decide> out;
  for (uint64_t s = std::max<uint64_t>(first, 1);
       s <= slots_.size() && out.size() < max; ++s)
    out.push_back(from_blob<decide>(slots_[s - 1]));
  return out;
}

std::vector<chat_entry> memory_learner_storage::history(uint64_t first,
                                                        size_t max) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<chat_entry> out;
  for (uint64_t i = std::max<uint64_t>(first, 1);
       i <= history_.size() && out.size() < max; ++i)
    out.push_back(from_blob<chat_entry>(history_[i - 1]));
  return out;
}

server_storage make_memory_storage() {
  return server_storage{std::make_shared<memory_acceptor_storage>(),
                        std::make_shared<memory_learner_storage>()};
}

} // namespace cafchat
