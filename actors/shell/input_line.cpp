#include "actors/shell/input_line.hpp"

#include <charconv>
#include <sstream>

namespace cafchat {

input_line parse_input_line(std::string line) {
  input_line in;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.empty())
    return in;
  if (line.rfind("//", 0) == 0) {
    in.kind = input_line::message;
    in.text = line.substr(1);
    return in;
  }
  if (line[0] == '/') {
    in.kind = input_line::command;
    std::istringstream words{line};
    words >> in.name;
    for (std::string a; words >> a;)
      in.args.push_back(a);
    return in;
  }
  in.kind = input_line::message;
  in.text = std::move(line);
  return in;
}

std::optional<uint64_t> parse_count_arg(const std::string& s, uint64_t min,
                                        uint64_t max) {
  if (s.empty() || s.size() > 20)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return std::nullopt; // beyond 64 bits
    v = v * 10 + d;
  }
  if (v < min || v > max)
    return std::nullopt;
  return v;
}

std::optional<double> parse_seconds_arg(const std::string& s, double max) {
  if (s.empty() || s.size() > 20)
    return std::nullopt;
  size_t digits = 0;
  size_t dots = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c == '.')
      ++dots;
    else
      return std::nullopt;
  }
  if (digits == 0 || dots > 1)
    return std::nullopt;
  // from_chars: the same in every locale ('.' even where the locale writes
  // ','); it reads "1." and ".5" too.
  double v = 0;
  auto last = s.data() + s.size();
  auto res = std::from_chars(s.data(), last, v, std::chars_format::fixed);
  if (res.ec != std::errc{} || res.ptr != last)
    return std::nullopt;
  if (!(v >= 0) || !(v <= max))
    return std::nullopt;
  return v;
}

} // namespace cafchat
