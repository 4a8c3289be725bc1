// Fuzz harness: the LMDB store's record decoders (actors/storage/
// lmdb_records.hpp), which read every value and key the store holds. A
// damaged or foreign store must be refused with a storage_error naming the
// store and the record, and nothing else: no crash, no other exception, no
// sanitizer finding.
//
// Input: byte 0 picks the record (storage_records.hpp); for the meta record
// bytes 1-4 are the server id the store is opened for; the rest is the
// stored value (or key).
//
// Checked besides: a record that decodes encodes to bytes that decode to
// the same encoding.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "storage_records.hpp"

using namespace cafchat;
using namespace cafchat::fuzzing;

namespace {

const std::string dir = "/fuzz/store";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz-storage: %s\n", what.c_str());
  std::abort();
}

void refused(const storage_error& e) {
  // The reason names the store, as the storage promises.
  if (std::string{e.what()}.rfind(dir + ": ", 0) != 0)
    fail(std::string{"a storage_error that does not name the store: "}
         + e.what());
}

template <class T>
void record(const char* data, size_t size, const char* what) {
  T x;
  try {
    x = decode_record<T>(dir, data, size, what);
  } catch (const storage_error& e) {
    refused(e);
    return;
  }
  auto once = encode(x);
  auto y = decode<T>(once);
  if (!y)
    fail(std::string{what} + ": its own encoding does not decode");
  if (encode(*y) != once)
    fail(std::string{what} + ": a second encoding differs from the first");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1)
    return 0;
  auto which = static_cast<storage_record>(
    bytes[0] % static_cast<uint8_t>(storage_record::count));
  auto data = reinterpret_cast<const char*>(bytes + 1);
  auto n = size - 1;
  switch (which) {
    case storage_record::meta: {
      if (n < 4)
        return 0;
      server_id id = 0;
      std::memcpy(&id, data, 4);
      try {
        auto m = decode_meta_record(dir, data + 4, n - 4, id);
        if (m.id != id || m.format != lmdb_meta::format_name
            || m.version != lmdb_meta::format_version)
          fail("a meta record of another store was taken");
      } catch (const storage_error& e) {
        refused(e);
      }
      break;
    }
    case storage_record::promise:
      record<ballot>(data, n, "the promise");
      break;
    case storage_record::acceptor_meta:
      record<acceptor_meta>(data, n, "the acceptor's meta record");
      break;
    case storage_record::accepted:
      record<accepted_slot>(data, n, "accepted slot 1");
      break;
    case storage_record::u64:
      record<uint64_t>(data, n, "the proposer's round");
      break;
    case storage_record::decided:
      record<decide>(data, n, "decided slot 1");
      break;
    case storage_record::history:
      record<chat_entry>(data, n, "history entry 1");
      break;
    case storage_record::key:
      try {
        auto k = decode_key(dir, "decided", data, n);
        unsigned char back[8];
        encode_key(k, back);
        if (n != 8 || std::memcmp(back, data, 8) != 0)
          fail("decode_key and encode_key disagree");
      } catch (const storage_error& e) {
        refused(e);
      }
      break;
    case storage_record::count:
      break;
  }
  return 0;
}
