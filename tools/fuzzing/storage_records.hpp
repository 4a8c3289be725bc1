#pragma once

// The records the LMDB store decodes (actors/storage/lmdb_storage.cpp), in
// the order the storage harness picks them by its input's first byte; the
// seed writer (seeds.cpp) uses the same list.

#include <cstdint>

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/storage/lmdb_records.hpp"
#include "messages/client.hpp"
#include "messages/paxos.hpp"

namespace cafchat::fuzzing {

enum class storage_record : uint8_t {
  meta,          ///< decode_meta_record (format, version, server id)
  promise,       ///< ballot
  acceptor_meta, ///< acceptor_meta
  accepted,      ///< accepted_slot
  u64,           ///< a client's last sequence number, the proposer's round
  decided,       ///< decide
  history,       ///< chat_entry
  key,           ///< decode_key: every key is 8 bytes big-endian
  count          ///< (the number of choices)
};

constexpr const char* storage_record_names[] = {
  "meta", "promise", "acceptor_meta", "accepted", "u64",
  "decided", "history", "key"};

} // namespace cafchat::fuzzing
