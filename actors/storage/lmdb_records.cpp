#include "actors/storage/lmdb_records.hpp"

#include "messages/errors.hpp"

namespace cafchat {

std::string decode_failure(const caf::error& err) {
  auto s = describe(err);
  auto& ctx = err.context();
  if (err.category() == caf::atom("system")
      && ctx.match_elements<std::string>())
    s += ": " + ctx.get_as<std::string>(0);
  return s;
}

lmdb_meta decode_meta_record(const std::string& dir, const char* data,
                             size_t size, server_id id) {
  auto fail = [&](const std::string& what) {
    return storage_error(dir + ": " + what);
  };
  {
    std::string format;
    uint32_t version = 0;
    caf::binary_deserializer src{nullptr, data, size};
    if (auto err = src(format, version))
      throw fail("the meta record does not decode: " + decode_failure(err));
    if (format != lmdb_meta::format_name)
      throw fail("meta says format '" + format + "', not '"
                 + lmdb_meta::format_name + "'");
    if (version != lmdb_meta::format_version)
      throw fail("meta says format version " + std::to_string(version)
                 + ", this build reads version "
                 + std::to_string(lmdb_meta::format_version));
  }
  auto m = decode_record<lmdb_meta>(dir, data, size, "the meta record");
  if (m.id != id)
    throw fail("meta says server " + std::to_string(m.id) + ", not "
               + std::to_string(id));
  return m;
}

void encode_key(uint64_t x, unsigned char (&bytes)[8]) {
  for (int i = 7; i >= 0; --i, x >>= 8)
    bytes[i] = static_cast<unsigned char>(x & 0xff);
}

uint64_t decode_key(const std::string& dir, const char* db, const void* data,
                    size_t size) {
  if (size != 8)
    throw storage_error(dir + ": " + db + " has a key of "
                        + std::to_string(size) + " bytes, not 8");
  auto p = static_cast<const unsigned char*>(data);
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i)
    x = (x << 8) | p[i];
  return x;
}

} // namespace cafchat
