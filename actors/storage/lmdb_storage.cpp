#include "actors/storage/lmdb_storage.hpp"

#include <sys/mman.h>

#include <atomic>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include <lmdb.h>

#include "messages/codec.hpp"
#include "messages/errors.hpp"

namespace cafchat {

namespace {

namespace fs = std::filesystem;

const char* const meta_key = "meta";
const char* const promised_key = "promised";
const char* const acceptor_meta_key = "acceptor";
const char* const round_key = "round";

/// Why a decode failed, with the detail CAF keeps in the error's context
/// (e.g. "3 trailing bytes").
std::string why(const caf::error& err) {
  auto s = describe(err);
  auto& ctx = err.context();
  if (err.category() == caf::atom("system")
      && ctx.match_elements<std::string>())
    s += ": " + ctx.get_as<std::string>(0);
  return s;
}

/// A uint64 key, big-endian so that LMDB's byte order is numeric order.
struct key64 {
  explicit key64(uint64_t x) {
    for (int i = 7; i >= 0; --i, x >>= 8)
      bytes[i] = static_cast<unsigned char>(x & 0xff);
  }
  MDB_val val() { return MDB_val{sizeof(bytes), bytes}; }
  unsigned char bytes[8];
};

MDB_val string_val(const char* s) {
  return MDB_val{std::char_traits<char>::length(s), const_cast<char*>(s)};
}

MDB_val bytes_val(std::vector<char>& buf) {
  return MDB_val{buf.size(), buf.data()};
}

/// Makes a new directory entry durable: LMDB fsyncs its files, not the
/// directories that name them. Best effort: some file systems refuse.
void sync_dir(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return;
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

/// Marks a directory open in this process. LMDB forbids opening one
/// environment twice in a process: closing either copy would drop the
/// other's file locks.
class dir_claim {
public:
  dir_claim(const std::string& dir, std::string canonical)
    : path_(std::move(canonical)) {
    std::lock_guard<std::mutex> guard{mtx()};
    if (!claimed().insert(path_).second)
      throw storage_error(dir + ": already open in this process");
  }
  ~dir_claim() {
    std::lock_guard<std::mutex> guard{mtx()};
    claimed().erase(path_);
  }
  dir_claim(const dir_claim&) = delete;
  dir_claim& operator=(const dir_claim&) = delete;

private:
  static std::mutex& mtx() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& claimed() {
    static std::set<std::string> s;
    return s;
  }
  std::string path_;
};

fs::path canonical_dir(const std::string& dir) {
  fs::path p{dir};
  std::error_code ec;
  auto st = fs::status(p, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw storage_error(dir + ": not a directory");
  fs::create_directories(p, ec);
  if (ec)
    throw storage_error(dir + ": cannot create the directory: "
                        + ec.message());
  // The chat history is nobody else's business: owner only.
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec)
    throw storage_error(dir + ": cannot restrict the directory to its owner: "
                        + ec.message());
  auto canon = fs::canonical(p, ec);
  if (ec)
    throw storage_error(dir + ": " + ec.message());
  return canon;
}

struct env_closer {
  void operator()(MDB_env* e) const { mdb_env_close(e); }
};

class txn;

} // namespace

// -- the environment ----------------------------------------------------------

class lmdb_env {
public:
  lmdb_env(const std::string& dir, server_id id, const lmdb_options& opts);

  MDB_env* get() const { return env_.get(); }
  const std::string& dir() const { return dir_; }
  bool fresh() const { return fresh_; }

  /// Throws a storage_error naming the directory.
  [[noreturn]] void fail(const std::string& what) const {
    throw storage_error(dir_ + ": " + what);
  }
  void check(int rc, const std::string& what) const {
    if (rc != MDB_SUCCESS)
      fail(what + ": " + mdb_strerror(rc));
  }

  /// Called after every write commit. LMDB reads through a read-only shared
  /// memory map, and every page it touched (on an append, the rightmost
  /// path, so in time the whole file) stays in the process's resident set
  /// as file-backed memory. Every `release_every` commits the mapped pages
  /// leave the resident set (madvise MADV_DONTNEED: they stay in the page
  /// cache; a later read faults them back in), so a server's resident memory
  /// stays flat while its data grows on disk.
  void after_commit() const;
  static constexpr uint64_t release_every = 4096;

  MDB_dbi meta = 0;
  MDB_dbi accepted = 0;
  MDB_dbi decided = 0;
  MDB_dbi history = 0;
  MDB_dbi clients = 0;

private:
  void open_databases(txn& t);
  void check_meta(txn& t, server_id id);

  std::string dir_; ///< As the caller named it, for messages.
  fs::path path_;   ///< Canonical.
  dir_claim claim_; // declared before env_: released after the env closes
  std::unique_ptr<MDB_env, env_closer> env_;
  bool fresh_ = false;
  mutable std::atomic<uint64_t> commits_{0};
  void* map_ = nullptr; ///< Where LMDB mapped data.mdb (see after_commit).
  size_t map_size_ = 0;
  void find_map();
};

void lmdb_env::find_map() {
  // LMDB reports the map address only for MDB_FIXEDMAP environments; the
  // kernel knows it. The map never moves: its size is fixed at open.
  auto file = (path_ / "data.mdb").string();
  std::ifstream maps{"/proc/self/maps"};
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos || line.compare(slash, std::string::npos, file) != 0)
      continue;
    auto dash = line.find('-');
    auto lo = std::stoull(line.substr(0, dash), nullptr, 16);
    auto hi = std::stoull(line.substr(dash + 1), nullptr, 16);
    map_ = reinterpret_cast<void*>(lo);
    map_size_ = hi - lo;
    return;
  }
}

void lmdb_env::after_commit() const {
  if (++commits_ % release_every != 0 || map_ == nullptr)
    return;
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(env_.get(), &info) != MDB_SUCCESS
      || mdb_env_stat(env_.get(), &stat) != MDB_SUCCESS)
    return;
  auto used = static_cast<size_t>(info.me_last_pgno + 1) * stat.ms_psize;
  ::madvise(map_, std::min(used, map_size_), MADV_DONTNEED);
}

namespace {

/// One LMDB transaction, aborted unless committed. A write transaction
/// holds the environment's writer lock, which LMDB ties to the thread that
/// took it, so it begins and ends within one call; so does every read
/// transaction, which MDB_NOTLS allows on any thread.
class txn {
public:
  enum kind { read, write };

  txn(const lmdb_env& env, kind k) : env_(env) {
    env.check(mdb_txn_begin(env.get(), nullptr, k == read ? MDB_RDONLY : 0,
                            &ptr_),
              k == read ? "cannot begin a read" : "cannot begin a write");
  }
  ~txn() {
    if (ptr_ != nullptr)
      mdb_txn_abort(ptr_);
  }
  txn(const txn&) = delete;
  txn& operator=(const txn&) = delete;

  /// Makes every put durable. No cursor of this transaction may be open.
  void commit() {
    auto p = std::exchange(ptr_, nullptr); // commit frees it, even on error
    env_.check(mdb_txn_commit(p), "commit failed");
    env_.after_commit();
  }

  MDB_txn* get() const { return ptr_; }
  const lmdb_env& env() const { return env_; }

  std::optional<MDB_val> find(MDB_dbi db, MDB_val key) const {
    MDB_val v;
    auto rc = mdb_get(ptr_, db, &key, &v);
    if (rc == MDB_NOTFOUND)
      return std::nullopt;
    env_.check(rc, "read failed");
    return v;
  }

  void put(MDB_dbi db, MDB_val key, MDB_val v) {
    env_.check(mdb_put(ptr_, db, &key, &v, 0), "write failed");
  }

  size_t entries(MDB_dbi db) const {
    MDB_stat st;
    env_.check(mdb_stat(ptr_, db, &st), "stat failed");
    return st.ms_entries;
  }

private:
  const lmdb_env& env_;
  MDB_txn* ptr_ = nullptr;
};

/// A cursor over one database, closed before its transaction ends.
class cursor {
public:
  cursor(const txn& t, MDB_dbi db) : env_(t.env()) {
    env_.check(mdb_cursor_open(t.get(), db, &ptr_), "cannot open a cursor");
  }
  ~cursor() { mdb_cursor_close(ptr_); }
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;

  /// Moves as `op` says; false past either end.
  bool move(MDB_cursor_op op, MDB_val* key = nullptr) {
    MDB_val k = key != nullptr ? *key : MDB_val{0, nullptr};
    auto rc = mdb_cursor_get(ptr_, &k, &val, op);
    if (rc == MDB_NOTFOUND)
      return false;
    env_.check(rc, "read failed");
    this->key = k;
    return true;
  }

  /// The current key as the uint64 it encodes.
  uint64_t key_u64(const char* db) const {
    if (key.mv_size != 8)
      env_.fail(std::string{db} + " has a key of "
                + std::to_string(key.mv_size) + " bytes, not 8");
    auto p = static_cast<const unsigned char*>(key.mv_data);
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x = (x << 8) | p[i];
    return x;
  }

  MDB_val key{0, nullptr};
  MDB_val val{0, nullptr};

private:
  const lmdb_env& env_;
  MDB_cursor* ptr_ = nullptr;
};

template <class T>
T decode_val(const lmdb_env& env, const MDB_val& v, const std::string& what) {
  caf::expected<T> x = caf::sec::invalid_argument;
  try {
    x = decode<T>(static_cast<const char*>(v.mv_data), v.mv_size);
  } catch (const std::exception& e) {
    // Garbage lengths must not escape as bad_alloc or the like.
    env.fail(what + " does not decode: " + e.what());
  }
  if (!x)
    env.fail(what + " does not decode: " + why(x.error()));
  return std::move(*x);
}

/// Calls `f(key, value)` for the keys >= `first` in order while it returns
/// true.
template <class F>
void scan(const txn& t, MDB_dbi db, const char* name, uint64_t first, F f) {
  cursor c{t, db};
  key64 k{first};
  auto kv = k.val();
  for (bool ok = c.move(MDB_SET_RANGE, &kv); ok; ok = c.move(MDB_NEXT))
    if (!f(c.key_u64(name), c.val))
      return;
}

/// The highest key of `db`, or 0 when it is empty.
uint64_t last_key(const txn& t, MDB_dbi db, const char* name) {
  cursor c{t, db};
  return c.move(MDB_LAST) ? c.key_u64(name) : 0;
}

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

lmdb_env::lmdb_env(const std::string& dir, server_id id,
                   const lmdb_options& opts)
  : dir_(dir), path_(canonical_dir(dir)), claim_(dir, path_.string()) {
  MDB_env* raw = nullptr;
  check(mdb_env_create(&raw), "cannot create an LMDB environment");
  env_.reset(raw);
  check(mdb_env_set_maxdbs(raw, 8), "cannot set the number of databases");
  check(mdb_env_set_mapsize(raw, opts.map_size), "cannot set the map size");
  check(mdb_env_set_maxreaders(raw, opts.max_readers),
        "cannot set the number of readers");
  // MDB_NOTLS: actors migrate between threads, so a read transaction must
  // not be tied to the thread that began it. No MDB_NOSYNC: a commit is
  // durable when it returns.
  check(mdb_env_open(raw, path_.c_str(), MDB_NOTLS, 0600),
        "cannot open as an LMDB environment");
  find_map();
  int dead = 0;
  check(mdb_reader_check(raw, &dead), "cannot clear stale readers");
  txn t{*this, txn::write};
  open_databases(t);
  check_meta(t, id);
  // Refuse now, not in the middle of serving, a store that load() could not
  // read.
  read_acceptor_state(t);
  read_learner_state(t);
  t.commit();
  if (fresh_) {
    sync_dir(path_);
    sync_dir(path_.parent_path());
  }
}

void lmdb_env::open_databases(txn& t) {
  // The unnamed main database lists the named ones: empty means that this
  // directory held no store; we create all of them in this transaction.
  MDB_dbi main = 0;
  check(mdb_dbi_open(t.get(), nullptr, 0, &main),
        "cannot open the main database");
  fresh_ = t.entries(main) == 0;
  auto open = [&](const char* name, MDB_dbi& db) {
    auto rc = mdb_dbi_open(t.get(), name, fresh_ ? MDB_CREATE : 0, &db);
    if (rc == MDB_NOTFOUND)
      fail(std::string{"no database '"} + name + "': not a cafchat store");
    check(rc, std::string{"cannot open database '"} + name + "'");
  };
  open("meta", meta);
  open("accepted", accepted);
  open("decided", decided);
  open("history", history);
  open("clients", clients);
}

void lmdb_env::check_meta(txn& t, server_id id) {
  auto wanted = std::to_string(id);
  if (fresh_) {
    auto bytes = encode(lmdb_meta{lmdb_meta::format_name,
                                  lmdb_meta::format_version, id});
    t.put(meta, string_val(meta_key), bytes_val(bytes));
    return;
  }
  auto v = t.find(meta, string_val(meta_key));
  if (!v)
    fail("no meta record: not a cafchat store");
  // Read the marker and version alone first, so that another format or a
  // later version is named as such rather than as garbage.
  auto data = static_cast<const char*>(v->mv_data);
  {
    std::string format;
    uint32_t version = 0;
    caf::binary_deserializer src{nullptr, data, v->mv_size};
    if (auto err = src(format, version))
      fail("the meta record does not decode: " + why(err));
    if (format != lmdb_meta::format_name)
      fail("meta says format '" + format + "', not '"
           + lmdb_meta::format_name + "'");
    if (version != lmdb_meta::format_version)
      fail("meta says format version " + std::to_string(version)
           + ", this build reads version "
           + std::to_string(lmdb_meta::format_version));
  }
  auto m = decode_val<lmdb_meta>(*this, *v, "the meta record");
  if (m.id != id)
    fail("meta says server " + std::to_string(m.id) + ", not " + wanted);
}

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
  auto env = std::make_shared<lmdb_env>(dir, id, opts);
  server_storage result;
  result.acceptor = std::make_shared<lmdb_acceptor_storage>(env);
  result.learner = std::make_shared<lmdb_learner_storage>(env);
  result.fresh = env->fresh();
  return result;
}

} // namespace cafchat
