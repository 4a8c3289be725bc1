#include "actors/storage/lmdb_storage.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "actors/storage/lmdb_env.hpp"

// The acceptor's and the learner's stores on one LMDB environment
// (lmdb_env.hpp): what each reads and writes, in the layout lmdb_storage.hpp
// gives, and the checks on what it reads back.

namespace cafchat {

using namespace lmdb_detail;

namespace {

/// Reads a log keyed 1..n (decided slots, history entries): checks that it
/// has no gap and that its last record decodes with its own key. Returns
/// n and that record.
template <class T>
std::pair<uint64_t, std::optional<T>>
read_log_end(const txn& t, MDB_dbi db, const char* name, const char* what) {
  auto& env = t.env();
  cursor c{t, db};
  if (!c.move(MDB_FIRST))
    return {0, std::nullopt};
  auto first = c.key_u64(name);
  c.move(MDB_LAST);
  auto last = c.key_u64(name);
  auto n = t.entries(db);
  if (first != 1 || last != n)
    env.fail(std::string{name} + " has " + std::to_string(n) + " records from "
             + std::to_string(first) + " to " + std::to_string(last)
             + ", not contiguous from 1");
  auto label = std::string{what} + " " + std::to_string(last);
  auto x = decode_val<T>(env, c.val, label);
  return {last, std::move(x)};
}

acceptor_state read_acceptor_state(const txn& t) {
  auto& env = t.env();
  acceptor_state st;
  if (auto v = t.find(env.meta, string_val(promised_key)))
    st.promised = decode_val<ballot>(env, *v, "the promise");
  if (auto v = t.find(env.meta, string_val(acceptor_meta_key)))
    st.meta = decode_val<acceptor_meta>(env, *v, "the acceptor's meta record");
  scan(t, env.accepted, "accepted", 0, [&](uint64_t slot, const MDB_val& v) {
    auto label = "accepted slot " + std::to_string(slot);
    auto a = decode_val<accepted_slot>(env, v, label);
    if (a.slot != slot)
      env.fail(label + " holds slot " + std::to_string(a.slot));
    st.accepted.emplace(slot, std::move(a));
    return true;
  });
  return st;
}

learner_state read_learner_state(const txn& t) {
  auto& env = t.env();
  learner_state st;
  auto [slots, last_slot] = read_log_end<decide>(t, env.decided, "decided",
                                                 "decided slot");
  if (last_slot && last_slot->slot != slots)
    env.fail("decided slot " + std::to_string(slots) + " holds slot "
             + std::to_string(last_slot->slot));
  auto [entries, last_entry] = read_log_end<chat_entry>(t, env.history,
                                                        "history",
                                                        "history entry");
  if (last_entry && last_entry->index != entries)
    env.fail("history entry " + std::to_string(entries) + " holds entry "
             + std::to_string(last_entry->index));
  if (last_entry && last_entry->slot > slots)
    env.fail("history entry " + std::to_string(entries) + " is of slot "
             + std::to_string(last_entry->slot) + ", past the last decided "
             + std::to_string(slots));
  st.applied_upto = slots;
  st.history_size = entries;
  st.last_time_ms = last_entry ? last_entry->time_ms : 0;
  scan(t, env.clients, "clients", 0, [&](uint64_t client, const MDB_val& v) {
    auto label = "client " + std::to_string(client);
    st.clients.emplace_back(client, decode_val<uint64_t>(env, v, label));
    return true;
  });
  return st;
}

/// Reads the log `db` (keyed 1..n) from `first`, at most `max` records,
/// checking that they are contiguous and carry their own keys. A record is
/// a `noun` ("slot"), named "<name> <noun> <key>" in messages.
template <class T, class Key>
std::vector<T> read_log(const lmdb_env& env, MDB_dbi db, const char* name,
                        const char* noun, uint64_t first, size_t max,
                        Key key_of) {
  std::vector<T> out;
  if (max == 0)
    return out;
  txn t{env, txn::read};
  auto next = std::max<uint64_t>(first, 1);
  scan(t, db, name, next, [&](uint64_t k, const MDB_val& v) {
    auto label = std::string{name} + " " + noun + " " + std::to_string(k);
    if (k != next)
      env.fail(std::string{name} + " has a gap before " + label);
    auto x = decode_val<T>(env, v, label);
    if (key_of(x) != k)
      env.fail(label + " holds " + noun + " " + std::to_string(key_of(x)));
    out.push_back(std::move(x));
    ++next;
    return out.size() < max;
  });
  return out;
}

} // namespace

// -- acceptor -----------------------------------------------------------------

lmdb_acceptor_storage::lmdb_acceptor_storage(std::shared_ptr<lmdb_env> env)
  : env_(std::move(env)) {
}

acceptor_state lmdb_acceptor_storage::load() {
  txn t{*env_, txn::read};
  return read_acceptor_state(t);
}

void lmdb_acceptor_storage::write(const acceptor_writes& w) {
  auto& env = *env_;
  txn t{env, txn::write};
  if (w.promised) {
    ballot cur;
    if (auto v = t.find(env.meta, string_val(promised_key)))
      cur = decode_val<ballot>(env, *v, "the promise");
    if (*w.promised > cur) {
      auto bytes = encode(*w.promised);
      t.put(env.meta, string_val(promised_key), bytes_val(bytes));
    }
  }
  if (w.meta) {
    auto bytes = encode(*w.meta);
    t.put(env.meta, string_val(acceptor_meta_key), bytes_val(bytes));
  }
  for (auto& a : w.accepted) {
    key64 k{a.slot};
    if (auto v = t.find(env.accepted, k.val())) {
      auto label = "accepted slot " + std::to_string(a.slot);
      if (a.bal < decode_val<accepted_slot>(env, *v, label).bal)
        continue;
    }
    auto bytes = encode(a);
    t.put(env.accepted, k.val(), bytes_val(bytes));
  }
  t.commit();
  ++syncs_;
}

std::vector<accepted_slot>
lmdb_acceptor_storage::accepted_range(uint64_t first, size_t max) {
  std::vector<accepted_slot> out;
  if (max == 0)
    return out;
  auto& env = *env_;
  txn t{env, txn::read};
  scan(t, env.accepted, "accepted", first,
       [&](uint64_t slot, const MDB_val& v) {
         auto label = "accepted slot " + std::to_string(slot);
         out.push_back(decode_val<accepted_slot>(env, v, label));
         if (out.back().slot != slot)
           env.fail(label + " holds slot " + std::to_string(out.back().slot));
         return out.size() < max;
       });
  return out;
}

uint64_t lmdb_acceptor_storage::proposer_round() {
  auto& env = *env_;
  txn t{env, txn::read};
  if (auto v = t.find(env.meta, string_val(round_key)))
    return decode_val<uint64_t>(env, *v, "the proposer's round");
  return 0;
}

void lmdb_acceptor_storage::write_proposer_round(uint64_t round) {
  auto& env = *env_;
  txn t{env, txn::write};
  uint64_t cur = 0;
  if (auto v = t.find(env.meta, string_val(round_key)))
    cur = decode_val<uint64_t>(env, *v, "the proposer's round");
  if (round > cur) {
    auto bytes = encode(round);
    t.put(env.meta, string_val(round_key), bytes_val(bytes));
  }
  t.commit();
  ++syncs_;
}

uint64_t lmdb_acceptor_storage::syncs() const {
  return syncs_.load();
}

// -- learner ------------------------------------------------------------------

lmdb_learner_storage::lmdb_learner_storage(std::shared_ptr<lmdb_env> env)
  : env_(std::move(env)) {
}

learner_state lmdb_learner_storage::load() {
  txn t{*env_, txn::read};
  return read_learner_state(t);
}

void lmdb_learner_storage::write(const learner_writes& w) {
  auto& env = *env_;
  txn t{env, txn::write};
  // A gap is the caller's bug: throw before committing, so that nothing of
  // this write is stored.
  auto gap = [&](const char* what, uint64_t number, uint64_t last) {
    return std::logic_error(env.dir() + ": learner storage: " + what + " "
                            + std::to_string(number) + " written after "
                            + std::to_string(last));
  };
  auto last_slot = last_key(t, env.decided, "decided");
  for (auto& d : w.slots) {
    if (d.slot != last_slot + 1)
      throw gap("slot", d.slot, last_slot);
    key64 k{++last_slot};
    auto bytes = encode(d);
    t.put(env.decided, k.val(), bytes_val(bytes));
  }
  auto last_entry = last_key(t, env.history, "history");
  for (auto& e : w.entries) {
    if (e.index != last_entry + 1)
      throw gap("entry", e.index, last_entry);
    key64 k{++last_entry};
    auto bytes = encode(e);
    t.put(env.history, k.val(), bytes_val(bytes));
  }
  for (auto& [client, seq] : w.clients) {
    key64 k{client};
    auto bytes = encode(seq);
    t.put(env.clients, k.val(), bytes_val(bytes));
  }
  t.commit();
}

std::vector<decide> lmdb_learner_storage::decided(uint64_t first,
                                                  size_t max) {
  return read_log<decide>(*env_, env_->decided, "decided", "slot",
                          first, max, [](const decide& d) { return d.slot; });
}

std::vector<chat_entry> lmdb_learner_storage::history(uint64_t first,
                                                      size_t max) {
  return read_log<chat_entry>(*env_, env_->history, "history", "entry",
                              first, max,
                              [](const chat_entry& e) { return e.index; });
}

// -- opening ------------------------------------------------------------------

server_storage open_lmdb_storage(const std::string& dir, server_id id,
                                 lmdb_options opts) {
  auto env = std::make_shared<lmdb_env>(dir, id, opts, [](const txn& t) {
    // Refuse now, not in the middle of serving, a store that load() could
    // not read.
    read_acceptor_state(t);
    read_learner_state(t);
  });
  server_storage result;
  result.acceptor = std::make_shared<lmdb_acceptor_storage>(env);
  result.learner = std::make_shared<lmdb_learner_storage>(env);
  result.fresh = env->fresh();
  return result;
}

} // namespace cafchat
