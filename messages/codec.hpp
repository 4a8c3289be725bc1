#pragma once

// Encoding single message structs to bytes and back, for storage and tests.
// (Peer traffic is encoded by CAF's middleman itself.) Decoding is strict: a
// truncated buffer, a corrupted length or trailing bytes give an error,
// never a crash, and the whole input must be consumed.

#include <string>
#include <vector>

#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/expected.hpp"
#include "caf/sec.hpp"

namespace cafchat {

template <class T>
std::vector<char> encode(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(const_cast<T&>(x));
  static_cast<void>(err); // writing to memory cannot fail
  return buf;
}

template <class T>
caf::expected<T> decode(const char* data, size_t size) {
  T x;
  caf::binary_deserializer source{nullptr, data, size};
  if (auto err = source(x))
    return err;
  if (source.remaining() != 0)
    return caf::make_error(caf::sec::invalid_argument,
                           std::to_string(source.remaining())
                             + " trailing bytes");
  return x;
}

template <class T>
caf::expected<T> decode(const std::vector<char>& buf) {
  return decode<T>(buf.data(), buf.size());
}

} // namespace cafchat
