#pragma once

// Durable storage in LMDB: one environment per server, in its own directory,
// shared by the server's acceptor and learner stores. Every write call is one
// LMDB write transaction, and LMDB's default commit fsyncs, so a write is
// durable (all of it or nothing) when it returns: the acceptor may reply.
//
// On disk (named databases of one environment; keys are uint64 big-endian,
// so LMDB's byte order is numeric order; values are messages/codec.hpp
// encodings):
//
//   meta      "meta"     -> lmdb_meta (format marker, version, server id)
//             "promised" -> ballot
//             "acceptor" -> acceptor_meta (joined, epochs, recovered floor)
//             "round"    -> uint64_t      (the proposer's highest round)
//   accepted  slot       -> accepted_slot
//   decided   slot       -> decide        (slots 1..n, contiguous)
//   history   index      -> chat_entry    (entries 1..n, contiguous)
//   clients   client id  -> uint64_t      (last applied seq)
//
// Opening validates: the meta record names this format, version and server,
// and everything `load()` returns decodes. A store that fails is refused with
// a `storage_error`, never served. Later reads (`decided`, `history`) check
// what they decode and throw `storage_error` too.
//
// Threads: LMDB runs one write transaction at a time per environment (a
// second writer waits) and any number of readers. The environment is opened
// with MDB_NOTLS and every call begins and ends its own transaction, so the
// acceptor and learner actors may call from any threads, also at once.

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/storage/storage.hpp"

namespace cafchat {

struct lmdb_options {
  /// Upper bound of the data file in bytes. It is reserved address space,
  /// not disk: the file grows with the data. A write that would pass it
  /// fails with a storage_error.
  size_t map_size = size_t{64} << 30;
  /// Concurrent read transactions (LMDB's reader table).
  unsigned max_readers = 126;
};

/// The meta record: what kind of store this is and whose.
struct lmdb_meta {
  static constexpr const char* format_name = "cafchat-lmdb";
  /// 2: decide has bal, bare. 3: the acceptor's meta record (joined,
  /// storage epoch, peers' epochs, recovered floor) and the proposer's round.
  /// 4: values (accepted, decided) and history entries carry a time.
  static constexpr uint32_t format_version = 4;

  /// Encoded first, so that any version can tell what it is looking at.
  std::string format = format_name;
  uint32_t version = format_version;
  server_id id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lmdb_meta& x) {
  return f(x.format, x.version, x.id);
}

/// The LMDB environment of one server (defined in the .cpp, so that lmdb.h
/// stays out of this header). Closed when the last store using it is gone.
class lmdb_env;

class lmdb_acceptor_storage : public acceptor_storage {
public:
  explicit lmdb_acceptor_storage(std::shared_ptr<lmdb_env> env);

  acceptor_state load() override;
  /// Like memory_acceptor_storage: the promise only rises and an accepted
  /// slot only moves to an equal or higher ballot.
  void write(const acceptor_writes& w) override;
  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override;
  uint64_t proposer_round() override;
  void write_proposer_round(uint64_t round) override;
  /// Number of write calls, each one committed transaction (an fsync when
  /// it changed anything).
  uint64_t syncs() const;

private:
  std::shared_ptr<lmdb_env> env_;
  std::atomic<uint64_t> syncs_{0};
};

class lmdb_learner_storage : public learner_storage {
public:
  explicit lmdb_learner_storage(std::shared_ptr<lmdb_env> env);

  learner_state load() override;
  /// Throws std::logic_error, writing nothing, unless the slots continue the
  /// decided log and the entries the history, without gaps.
  void write(const learner_writes& w) override;
  std::vector<decide> decided(uint64_t first, size_t max) override;
  std::vector<chat_entry> history(uint64_t first, size_t max) override;

private:
  std::shared_ptr<lmdb_env> env_;
};

/// Opens (creating `dir` and its parents if missing) the LMDB storage of
/// server `id`. `fresh` in the result tells whether the directory held no
/// store before. Throws storage_error when `dir` cannot be used, belongs to
/// another server or format, or holds data that does not decode; and when
/// it is already open in this process (LMDB forbids opening one environment
/// twice in a process).
server_storage open_lmdb_storage(const std::string& dir, server_id id,
                                 lmdb_options opts = {});

} // namespace cafchat
