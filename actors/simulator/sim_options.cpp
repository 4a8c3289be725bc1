#include "actors/simulator/sim_options.hpp"

#include <cctype>
#include <set>
#include <stdexcept>

namespace cafchat {

namespace {

int64_t parse_duration(const std::string& s, const std::string& whole) {
  auto bad = [&] {
    return std::invalid_argument("fault rule '" + whole + "': '" + s
                                 + "' is not a duration (seconds, or N ms)");
  };
  if (s.empty())
    throw bad();
  size_t i = 0;
  int64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    n = n * 10 + (s[i] - '0');
    if (n > 86400000)
      throw bad();
    ++i;
  }
  if (i == 0)
    throw bad();
  auto unit = s.substr(i);
  if (unit.empty() || unit == "s")
    return n * 1000;
  if (unit == "ms")
    return n;
  throw bad();
}

} // namespace

server_rule parse_rule(const std::string& text) {
  server_rule r;
  if (text.empty())
    throw std::invalid_argument("empty fault rule");
  size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find("::", pos);
    auto part = text.substr(pos, end == std::string::npos ? std::string::npos
                                                           : end - pos);
    if (part.size() < 3 || part[1] != ':')
      throw std::invalid_argument("fault rule '" + text + "': '" + part
                                  + "' is not of the form p:N, a:N, c:N or d:N");
    auto d = parse_duration(part.substr(2), text);
    switch (part[0]) {
      case 'p':
        r.prepare_delay_ms = d;
        break;
      case 'a':
        r.accept_delay_ms = d;
        break;
      case 'c':
        r.commit_delay_ms = d;
        break;
      case 'd':
        r.drop_after_ms = d;
        break;
      default:
        throw std::invalid_argument("fault rule '" + text + "': unknown phase '"
                                    + std::string(1, part[0])
                                    + "' (p, a, c or d)");
    }
    if (end == std::string::npos)
      break;
    pos = end + 2;
  }
  return r;
}

std::string to_string(const server_rule& r) {
  std::string s;
  auto add = [&](char k, int64_t v) {
    if (v < 0)
      return;
    if (!s.empty())
      s += "::";
    s += k;
    s += ':';
    s += v % 1000 == 0 ? std::to_string(v / 1000) : std::to_string(v) + "ms";
  };
  add('p', r.prepare_delay_ms);
  add('a', r.accept_delay_ms);
  add('c', r.commit_delay_ms);
  add('d', r.drop_after_ms);
  return s;
}

void sim_options::validate() const {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument(what);
  };
  if (delay_min_ms > delay_max_ms)
    fail("delay_min_ms (" + std::to_string(delay_min_ms)
         + ") is above delay_max_ms (" + std::to_string(delay_max_ms) + ")");
  if (!(drop_probability >= 0 && drop_probability <= 1))
    fail("drop_probability must be in [0, 1]");
  if (!(duplicate_probability >= 0 && duplicate_probability <= 1))
    fail("duplicate_probability must be in [0, 1]");
  if (rotation_min_ms > rotation_max_ms)
    fail("rotation_min_s is above rotation_max_s");
  if (omission && rotation_min_ms == 0)
    fail("rotation_min_s must be above 0 with omission on");
  std::set<server_id> seen;
  for (auto& group : partitions) {
    if (group.empty())
      fail("a partition group is empty");
    for (auto id : group) {
      if (id == 0)
        fail("server id 0 in a partition");
      if (!seen.insert(id).second)
        fail("server " + std::to_string(id) + " is in two partition groups");
    }
  }
}

} // namespace cafchat
