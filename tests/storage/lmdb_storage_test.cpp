// What only the LMDB storage does: it survives the process, it refuses a
// directory that is not this server's store or does not decode, and it takes
// writes from the acceptor and the learner threads at once. The contract
// both storages share is in storage_contract_test.cpp.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <lmdb.h>

#include "messages/codec.hpp"
#include "tests/storage/storage_fixture.hpp"

using namespace cafchat;
using namespace cafchat::test;

using Catch::Matchers::EndsWith;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

std::string big_endian(uint64_t x) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, x >>= 8)
    s[i] = static_cast<char>(x & 0xff);
  return s;
}

template <class T>
std::string bytes_of(const T& x) {
  auto buf = encode(x);
  return std::string{buf.begin(), buf.end()};
}

/// The store's LMDB environment opened behind its back, to damage it the way
/// a disk or another program might. Never open while a storage has `dir`.
class raw_env {
public:
  explicit raw_env(const std::string& dir) {
    REQUIRE(mdb_env_create(&env_) == 0);
    REQUIRE(mdb_env_set_maxdbs(env_, 8) == 0);
    REQUIRE(mdb_env_open(env_, dir.c_str(), 0, 0644) == 0);
    REQUIRE(mdb_txn_begin(env_, nullptr, 0, &txn_) == 0);
  }
  ~raw_env() {
    if (txn_ != nullptr)
      mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }

  void put(const char* db, const std::string& key, const std::string& val) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{val.size(), const_cast<char*>(val.data())};
    REQUIRE(mdb_put(txn_, open(db), &k, &v, 0) == 0);
  }
  void del(const char* db, const std::string& key) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    REQUIRE(mdb_del(txn_, open(db), &k, nullptr) == 0);
  }
  void commit() {
    REQUIRE(mdb_txn_commit(txn_) == 0);
    txn_ = nullptr;
  }

private:
  MDB_dbi open(const char* db) {
    MDB_dbi dbi = 0;
    REQUIRE(mdb_dbi_open(txn_, db, MDB_CREATE, &dbi) == 0);
    return dbi;
  }

  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

/// What opening `dir` as server `id` throws: the storage_error's message,
/// or a note that it threw something else or nothing.
std::string open_error(const std::string& dir, server_id id) {
  try {
    open_lmdb_storage(dir, id);
    return "(opened)";
  } catch (const storage_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string{"(not a storage_error) "} + e.what();
  }
}

/// A store of server 2 holding something in every database: the promise,
/// accepted slots 1 and 2, decided slots 1..3, history entries 1..2, client 7.
void fill(const std::string& dir) {
  auto s = open_lmdb_storage(dir, 2);
  acceptor_writes aw;
  aw.promised = ballot{4, 2};
  aw.accepted = {acc(1, {4, 2}, "a"), acc(2, {4, 2}, "b")};
  s.acceptor->write(aw);
  s.learner->write(learner_writes{{dec(1, "a"), dec(2, "b"), dec(3, "")},
                                  {entry(1, 1, "a"), entry(2, 2, "b")},
                                  {{7, 2}}});
}

} // namespace

// -- opening ------------------------------------------------------------------

TEST_CASE("lmdb: a new store is created with its parents and is fresh once") {
  temp_dir tmp;
  auto dir = tmp / "data/server-1";
  {
    auto s = open_lmdb_storage(dir, 1);
    CHECK(s.fresh);
    CHECK(std::filesystem::is_directory(dir));
    CHECK(std::filesystem::exists(dir + "/data.mdb"));
  }
  // Reopened, even with nothing written yet, the store was there before.
  {
    auto s = open_lmdb_storage(dir, 1);
    CHECK_FALSE(s.fresh);
    s.acceptor->write(acceptor_writes{ballot{1, 1}, {}, {}});
  }
  CHECK_FALSE(open_lmdb_storage(dir, 1).fresh);
  // A server that lost its directory starts fresh again.
  std::filesystem::remove_all(dir);
  auto s = open_lmdb_storage(dir, 1);
  CHECK(s.fresh);
  CHECK(s.acceptor->load().promised.is_zero());
}

TEST_CASE("lmdb: a write is kept when the process dies right after it") {
  temp_dir tmp;
  auto dir = tmp / "server-1";
  // The child writes and exits at once: no destructor, no environment close.
  auto pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      auto s = open_lmdb_storage(dir, 1);
      s.acceptor->write(acceptor_writes{ballot{2, 1}, {acc(1, {2, 1}, "x")}, {}});
      s.learner->write(learner_writes{{dec(1, "x")}, {entry(1, 1, "x")},
                                      {{9, 1}}});
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto s = open_lmdb_storage(dir, 1);
  CHECK_FALSE(s.fresh);
  auto a = s.acceptor->load();
  CHECK(a.promised == ballot{2, 1});
  CHECK(show(s.acceptor->accepted_range(1, 10))
        == std::vector<std::string>{"1:x@2"});
  auto l = s.learner->load();
  CHECK(l.applied_upto == 1);
  CHECK(l.history_size == 1);
  CHECK(l.clients == std::vector<std::pair<uint64_t, uint64_t>>{{9, 1}});
}

TEST_CASE("lmdb: syncs counts committed acceptor writes") {
  temp_dir tmp;
  auto s = open_lmdb_storage(tmp / "s", 1);
  auto& a = dynamic_cast<lmdb_acceptor_storage&>(*s.acceptor);
  CHECK(a.syncs() == 0);
  a.write(acceptor_writes{ballot{1, 1}, {acc(1, {1, 1}, "x")}, {}});
  a.write(acceptor_writes{std::nullopt, {acc(2, {1, 1}, "y")}, {}});
  CHECK(a.syncs() == 2);
  // A write that fails is not a sync: its transaction was aborted.
  auto& l = *s.learner;
  CHECK_THROWS(l.write(learner_writes{{dec(2, "")}, {}, {}}));
  CHECK(a.syncs() == 2);
}

TEST_CASE("lmdb: a directory open in this process is not opened twice") {
  temp_dir tmp;
  auto dir = tmp / "server-1";
  auto s = std::make_unique<server_storage>(open_lmdb_storage(dir, 1));
  CHECK_THAT(open_error(dir, 1),
             Equals(dir + ": already open in this process"));
  // The same directory by another name is the same environment.
  CHECK_THAT(open_error(tmp / "server-1/../server-1", 1),
             EndsWith("already open in this process"));
  s.reset();
  CHECK(open_error(dir, 1) == "(opened)");
}

// -- refusing -----------------------------------------------------------------

TEST_CASE("lmdb: another server's directory is refused, and left as it was") {
  temp_dir tmp;
  auto dir = tmp / "server-2";
  fill(dir);
  CHECK_THAT(open_error(dir, 3), Equals(dir + ": meta says server 2, not 3"));
  auto s = open_lmdb_storage(dir, 2);
  CHECK(s.acceptor->load().promised == ballot{4, 2});
  CHECK(s.learner->load().applied_upto == 3);
}

TEST_CASE("lmdb: a path that cannot hold a store is refused") {
  temp_dir tmp;
  SECTION("a regular file") {
    auto path = tmp / "file";
    std::ofstream{path} << "not a directory\n";
    CHECK_THAT(open_error(path, 1), Equals(path + ": not a directory"));
  }
  SECTION("below a regular file") {
    std::ofstream{tmp / "file"} << "x";
    auto path = tmp / "file/server-1";
    CHECK_THAT(open_error(path, 1),
               StartsWith(path + ": cannot create the directory: "));
  }
  SECTION("a data file that is not LMDB") {
    auto dir = tmp / "server-1";
    std::filesystem::create_directories(dir);
    std::ofstream{dir + "/data.mdb"} << std::string(16384, '\xab');
    CHECK_THAT(open_error(dir, 1),
               StartsWith(dir + ": cannot open as an LMDB environment: "));
  }
  SECTION("a data file cut short") {
    auto dir = tmp / "server-1";
    fill(dir);
    std::filesystem::resize_file(dir + "/data.mdb", 100);
    CHECK_THAT(open_error(dir, 2),
               StartsWith(dir + ": cannot open as an LMDB environment: "));
  }
  SECTION("another program's LMDB environment") {
    auto dir = tmp / "server-1";
    std::filesystem::create_directories(dir);
    raw_env raw{dir};
    raw.put("settings", "colour", "blue");
    raw.commit();
    CHECK_THAT(open_error(dir, 1),
               Equals(dir + ": no database 'meta': not a cafchat store"));
  }
  // Each refusal released the directory: the next open is not "already
  // open", and the file or store is still what it was.
  CHECK(open_lmdb_storage(tmp / "elsewhere", 1).fresh);
}

TEST_CASE("lmdb: a meta record of another format or version is refused") {
  struct row {
    const char* name;
    std::string meta;
    std::string says;
  };
  const row rows[] = {
    {"another format", bytes_of(lmdb_meta{"sqlite", 1, 2}),
     ": meta says format 'sqlite', not 'cafchat-lmdb'"},
    {"a later version",
     bytes_of(lmdb_meta{"cafchat-lmdb", lmdb_meta::format_version + 1, 2}),
     ": meta says format version "
       + std::to_string(lmdb_meta::format_version + 1)
       + ", this build reads version "
       + std::to_string(lmdb_meta::format_version)},
    // Version 3 stored values and history entries without their time.
    {"version 3, from before times",
     bytes_of(lmdb_meta{"cafchat-lmdb", 3, 2}),
     ": meta says format version 3, this build reads version 4"},
    {"garbage", "\x01\x02", ": the meta record does not decode: "},
    {"trailing bytes",
     bytes_of(lmdb_meta{"cafchat-lmdb", lmdb_meta::format_version, 2}) + "zz",
     ": the meta record does not decode: "},
  };
  for (auto& r : rows) {
    INFO(r.name);
    temp_dir tmp;
    auto dir = tmp / "server-2";
    fill(dir);
    {
      raw_env raw{dir};
      raw.put("meta", "meta", r.meta);
      raw.commit();
    }
    CHECK_THAT(open_error(dir, 2), StartsWith(dir + r.says));
  }
  SECTION("no meta record") {
    temp_dir tmp;
    auto dir = tmp / "server-2";
    fill(dir);
    {
      raw_env raw{dir};
      raw.del("meta", "meta");
      raw.commit();
    }
    CHECK_THAT(open_error(dir, 2),
               Equals(dir + ": no meta record: not a cafchat store"));
  }
}

TEST_CASE("lmdb: a store whose data does not decode is refused at open") {
  struct row {
    const char* db;
    std::string key;
    std::string val;
    std::string says;
  };
  // fill() wrote accepted 1..2, decided 1..3, history 1..2, client 7.
  const row rows[] = {
    {"meta", "promised", "\x07", ": the promise does not decode: "},
    {"accepted", big_endian(17), "garbage",
     ": accepted slot 17 does not decode: "},
    {"accepted", big_endian(1), bytes_of(acc(1, {4, 2}, "a")) + "zz",
     ": accepted slot 1 does not decode: "},
    {"accepted", big_endian(17), bytes_of(acc(5, {4, 2}, "e")),
     ": accepted slot 17 holds slot 5"},
    {"accepted", "abc", bytes_of(acc(5, {4, 2}, "e")),
     ": accepted has a key of 3 bytes, not 8"},
    {"decided", big_endian(3), "garbage", ": decided slot 3 does not decode: "},
    {"decided", big_endian(3), bytes_of(dec(2, "")),
     ": decided slot 3 holds slot 2"},
    {"decided", big_endian(5), bytes_of(dec(5, "")),
     ": decided has 4 records from 1 to 5, not contiguous from 1"},
    {"decided", big_endian(0), bytes_of(dec(0, "")),
     ": decided has 4 records from 0 to 3, not contiguous from 1"},
    {"history", big_endian(2), "\xff\xff\xff\xff",
     ": history entry 2 does not decode: "},
    {"history", big_endian(3), bytes_of(entry(3, 4, "late")),
     ": history entry 3 is of slot 4, past the last decided 3"},
    {"clients", big_endian(7), "\x01", ": client 7 does not decode: "},
  };
  for (auto& r : rows) {
    INFO(r.db << " " << r.says);
    temp_dir tmp;
    auto dir = tmp / "server-2";
    fill(dir);
    {
      raw_env raw{dir};
      raw.put(r.db, r.key, r.val);
      raw.commit();
    }
    auto err = open_error(dir, 2);
    CHECK_THAT(err, StartsWith(dir + r.says));
    // The cause follows, not just a code.
    if (r.says.back() == ' ')
      CHECK(err.size() > dir.size() + r.says.size());
  }
}

TEST_CASE("lmdb: a damaged record found later is refused, not served") {
  // Opening decodes what load() needs; older decided slots and history
  // entries are decoded when read.
  temp_dir tmp;
  auto dir = tmp / "server-2";
  fill(dir);
  {
    raw_env raw{dir};
    raw.put("decided", big_endian(2), "garbage");
    raw.put("history", big_endian(1), bytes_of(entry(5, 1, "moved")));
    raw.commit();
  }
  auto s = open_lmdb_storage(dir, 2);
  CHECK_THAT([&] {
    try {
      s.learner->decided(1, 10);
      return std::string{"(served)"};
    } catch (const storage_error& e) {
      return std::string{e.what()};
    }
  }(), StartsWith(dir + ": decided slot 2 does not decode: "));
  CHECK(slots_of(s.learner->decided(3, 10)) == std::vector<uint64_t>{3});
  CHECK_THROWS_WITH(s.learner->history(1, 10),
                    Equals(dir + ": history entry 1 holds entry 5"));
  CHECK(indexes_of(s.learner->history(2, 10)) == std::vector<uint64_t>{2});
}

// -- threads ------------------------------------------------------------------

TEST_CASE("lmdb: the acceptor and the learner write from two threads at once") {
  temp_dir tmp;
  auto dir = tmp / "server-1";
  const uint64_t n = 300; // past 255: keys sort as numbers
  {
    auto s = open_lmdb_storage(dir, 1);
    std::atomic<bool> writing{true};
    std::atomic<uint64_t> reads{0};
    std::string failure; // set by at most one thread before it stops
    std::mutex failure_mtx;
    auto guarded = [&](auto f) {
      return [&, f] {
        try {
          f();
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> guard{failure_mtx};
          failure += e.what();
          failure += "\n";
        }
      };
    };
    std::thread acceptor{guarded([&] {
      for (uint64_t i = 1; i <= n; ++i)
        s.acceptor->write(
          acceptor_writes{ballot{i, 1}, {acc(i, {i, 1}, "a")}, {}});
    })};
    std::thread learner{guarded([&] {
      for (uint64_t i = 1; i <= n; ++i)
        s.learner->write(learner_writes{{dec(i, "l")}, {entry(i, i, "l")},
                                        {{7, i}}});
    })};
    // A reader sees each write whole: every write raises the promise and
    // adds a slot together, and adds a slot, an entry and a client seq
    // together.
    std::thread reader{guarded([&] {
      while (writing) {
        auto a = s.acceptor->load();
        if (a.accepted.size() != a.promised.round)
          throw std::runtime_error("torn acceptor write");
        auto l = s.learner->load();
        if (l.history_size != l.applied_upto
            || (l.applied_upto > 0
                && l.clients
                     != std::vector<std::pair<uint64_t, uint64_t>>{
                       {7, l.applied_upto}}))
          throw std::runtime_error("torn learner write");
        ++reads;
      }
    })};
    acceptor.join();
    learner.join();
    writing = false;
    reader.join();
    CHECK(failure == "");
    CHECK(reads > 0);
    CHECK(dynamic_cast<lmdb_acceptor_storage&>(*s.acceptor).syncs() == n);
  }
  auto s = open_lmdb_storage(dir, 1);
  auto a = s.acceptor->load();
  CHECK(a.promised == ballot{n, 1});
  CHECK(a.accepted.size() == n);
  auto l = s.learner->load();
  CHECK(l.applied_upto == n);
  CHECK(l.history_size == n);
  CHECK(s.learner->decided(n, 5).size() == 1);
}
