#pragma once

// Helpers for the pure-core tests: pick messages of one type out of a core's
// output.

#include <vector>

#include "actors/common/outgoing.hpp"

namespace cafchat::test {

template <class T>
std::vector<T> sent(const std::vector<outgoing>& out) {
  std::vector<T> xs;
  for (auto& o : out)
    if (auto p = std::get_if<T>(&o.msg))
      xs.push_back(*p);
  return xs;
}

template <class T>
std::vector<outgoing> sent_envelopes(const std::vector<outgoing>& out) {
  std::vector<outgoing> xs;
  for (auto& o : out)
    if (std::holds_alternative<T>(o.msg))
      xs.push_back(o);
  return xs;
}

inline command cmd(uint64_t client, uint64_t seq, std::string text = "hi") {
  return command{client, seq, "user" + std::to_string(client), std::move(text)};
}

} // namespace cafchat::test
