#pragma once

// The records of the LMDB store (the layout: lmdb_storage.hpp), decoded
// from bytes with no LMDB environment: a stored value is a messages/codec.hpp
// encoding, a key a uint64 big-endian. Every decoder checks what it reads
// and throws a storage_error "<dir>: <what> ..." naming the store's
// directory and the record, never anything else: a damaged store is refused
// (the storage uses these for every read; a fuzz harness may call them on
// any bytes).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "actors/storage/lmdb_storage.hpp"
#include "messages/codec.hpp"

namespace cafchat {

/// Why a decode failed, with the detail CAF keeps in the error's context
/// (e.g. "3 trailing bytes").
std::string decode_failure(const caf::error& err);

/// Decodes the stored record `what` ("accepted slot 7") of the store in
/// `dir` from `size` bytes at `data`: the whole input, strictly.
template <class T>
T decode_record(const std::string& dir, const char* data, size_t size,
                const std::string& what) {
  caf::expected<T> x = caf::sec::invalid_argument;
  try {
    x = decode<T>(data, size);
  } catch (const std::exception& e) {
    // Garbage lengths must not escape as bad_alloc or the like.
    throw storage_error(dir + ": " + what + " does not decode: " + e.what());
  }
  if (!x)
    throw storage_error(dir + ": " + what + " does not decode: "
                        + decode_failure(x.error()));
  return std::move(*x);
}

/// Decodes the meta record of the store in `dir` and checks that it names
/// this format and version and server `id`. Reads the marker and version
/// alone first, so that another format or a later version is named as such
/// rather than as garbage.
lmdb_meta decode_meta_record(const std::string& dir, const char* data,
                             size_t size, server_id id);

/// The 8 bytes of key `x`, big-endian so that LMDB's byte order is numeric
/// order.
void encode_key(uint64_t x, unsigned char (&bytes)[8]);

/// The uint64 a key of database `db` encodes; refuses a key of any other
/// length than 8 bytes.
uint64_t decode_key(const std::string& dir, const char* db, const void* data,
                    size_t size);

} // namespace cafchat
