#include "actors/storage/lmdb_env.hpp"

#include <sys/mman.h>

#include <fstream>
#include <mutex>
#include <set>

#include <fcntl.h>
#include <unistd.h>

namespace cafchat {

namespace lmdb_detail {

namespace {

/// Makes a new directory entry durable: LMDB fsyncs its files, not the
/// directories that name them. Best effort: some file systems refuse.
void sync_dir(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return;
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

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

std::mutex& claims_mtx() {
  static std::mutex m;
  return m;
}

/// The canonical paths of the directories open in this process.
std::set<std::string>& claimed() {
  static std::set<std::string> s;
  return s;
}

} // namespace

dir_claim::dir_claim(const std::string& dir, std::string canonical)
  : path_(std::move(canonical)) {
  std::lock_guard<std::mutex> guard{claims_mtx()};
  if (!claimed().insert(path_).second)
    throw storage_error(dir + ": already open in this process");
}

dir_claim::~dir_claim() {
  std::lock_guard<std::mutex> guard{claims_mtx()};
  claimed().erase(path_);
}

/// The highest key of `db`, or 0 when it is empty.
uint64_t last_key(const txn& t, MDB_dbi db, const char* name) {
  cursor c{t, db};
  return c.move(MDB_LAST) ? c.key_u64(name) : 0;
}

} // namespace lmdb_detail

using namespace lmdb_detail;

// -- the environment ----------------------------------------------------------

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

lmdb_env::lmdb_env(const std::string& dir, server_id id,
                   const lmdb_options& opts,
                   const std::function<void(const txn&)>& check_store)
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
  check_store(t);
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
  if (fresh_) {
    auto bytes = encode(lmdb_meta{lmdb_meta::format_name,
                                  lmdb_meta::format_version, id});
    t.put(meta, string_val(meta_key), bytes_val(bytes));
    return;
  }
  auto v = t.find(meta, string_val(meta_key));
  if (!v)
    fail("no meta record: not a cafchat store");
  decode_meta_record(dir_, static_cast<const char*>(v->mv_data), v->mv_size,
                     id);
}

} // namespace cafchat
