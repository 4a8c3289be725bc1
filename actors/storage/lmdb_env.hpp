#pragma once

// The LMDB environment of one server and its transactions and cursors: what
// the LMDB storage (lmdb_storage.cpp) is built on. Internal to
// actors/storage: it includes lmdb.h, which stays out of every public
// header. The records these read and write are decoded by lmdb_records.hpp.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lmdb.h>

#include "actors/storage/lmdb_records.hpp"

namespace cafchat {

namespace lmdb_detail {

namespace fs = std::filesystem;

// The keys of the meta database (lmdb_storage.hpp lists what each holds).
inline const char* const meta_key = "meta";
inline const char* const promised_key = "promised";
inline const char* const acceptor_meta_key = "acceptor";
inline const char* const round_key = "round";

/// A uint64 key, big-endian so that LMDB's byte order is numeric order.
struct key64 {
  explicit key64(uint64_t x) { encode_key(x, bytes); }
  MDB_val val() { return MDB_val{sizeof(bytes), bytes}; }
  unsigned char bytes[8];
};

inline MDB_val string_val(const char* s) {
  return MDB_val{std::char_traits<char>::length(s), const_cast<char*>(s)};
}

inline MDB_val bytes_val(std::vector<char>& buf) {
  return MDB_val{buf.size(), buf.data()};
}

/// Marks a directory open in this process. LMDB forbids opening one
/// environment twice in a process: closing either copy would drop the
/// other's file locks.
class dir_claim {
public:
  /// Throws storage_error when `canonical` is open already.
  dir_claim(const std::string& dir, std::string canonical);
  ~dir_claim();
  dir_claim(const dir_claim&) = delete;
  dir_claim& operator=(const dir_claim&) = delete;

private:
  std::string path_;
};

struct env_closer {
  void operator()(MDB_env* e) const { mdb_env_close(e); }
};

class txn;

} // namespace lmdb_detail

// -- the environment ----------------------------------------------------------

class lmdb_env {
public:
  using txn = lmdb_detail::txn;

  /// Opens the environment in `dir` (creating it), checks or writes the meta
  /// record, and calls `check_store` in the same transaction before it
  /// commits: a store it throws for is refused now, not in the middle of
  /// serving.
  lmdb_env(const std::string& dir, server_id id, const lmdb_options& opts,
           const std::function<void(const txn&)>& check_store);

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

  std::string dir_;            ///< As the caller named it, for messages.
  lmdb_detail::fs::path path_; ///< Canonical.
  // Declared before env_: released after the env closes.
  lmdb_detail::dir_claim claim_;
  std::unique_ptr<MDB_env, lmdb_detail::env_closer> env_;
  bool fresh_ = false;
  mutable std::atomic<uint64_t> commits_{0};
  void* map_ = nullptr; ///< Where LMDB mapped data.mdb (see after_commit).
  size_t map_size_ = 0;
  void find_map();
};

namespace lmdb_detail {

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
    return decode_key(env_.dir(), db, key.mv_data, key.mv_size);
  }

  MDB_val key{0, nullptr};
  MDB_val val{0, nullptr};

private:
  const lmdb_env& env_;
  MDB_cursor* ptr_ = nullptr;
};

/// Decodes the record `what` at `v` (lmdb_records.hpp).
template <class T>
T decode_val(const lmdb_env& env, const MDB_val& v, const std::string& what) {
  return decode_record<T>(env.dir(), static_cast<const char*>(v.mv_data),
                          v.mv_size, what);
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
uint64_t last_key(const txn& t, MDB_dbi db, const char* name);

} // namespace lmdb_detail

} // namespace cafchat
