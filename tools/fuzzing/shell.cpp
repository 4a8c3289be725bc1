// Fuzz harness: the chat shell's command line (actors/shell/input_line.cpp):
// how a line splits into a message or a command and its words, and the
// typed, bounded readings of a command's arguments (server ids, counts,
// seconds). No crash, hang or sanitizer finding on any line.
//
// Input: one line of input (a '\n' inside ends the input's use).
//
// Checked besides: a command is its '/' name and whitespace-free words; a
// message keeps its text; a count that parses prints as the same digits
// (without leading zeros) and is within its bounds; seconds that parse are
// finite and within their bounds.

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "actors/shell/input_line.hpp"

using namespace cafchat;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz-shell: %s\n", what.c_str());
  std::abort();
}

bool has_space(const std::string& s) {
  for (unsigned char c : s)
    if (std::isspace(c))
      return true;
  return false;
}

void arguments(const std::string& a) {
  if (auto v = parse_count_arg(a, 1, UINT32_MAX)) {
    if (*v < 1 || *v > UINT32_MAX)
      fail("count out of bounds: " + a);
    auto digits = a.substr(std::min(a.find_first_not_of('0'), a.size()));
    if (std::to_string(*v) != digits)
      fail("count " + a + " read as " + std::to_string(*v));
  }
  if (parse_count_arg(a, 0, UINT64_MAX) && a.size() > 20)
    fail("a count of more than 20 digits: " + a);
  if (auto v = parse_seconds_arg(a, max_command_seconds)) {
    if (!std::isfinite(*v) || *v < 0 || *v > max_command_seconds)
      fail("seconds out of bounds: " + a);
    // The shell turns them into a deadline in milliseconds.
    auto ms = static_cast<int64_t>(*v * 1000);
    if (ms < 0)
      fail("negative deadline: " + a);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string line{reinterpret_cast<const char*>(bytes), size};
  if (line.find('\n') != std::string::npos)
    return 0;
  auto in = parse_input_line(line);
  switch (in.kind) {
    case input_line::nothing:
      if (!(line.empty() || line == "\r"))
        fail("a line taken as nothing: " + line);
      break;
    case input_line::message:
      if (in.text.empty())
        fail("a message with no text: " + line);
      break;
    case input_line::command:
      if (in.name.empty() || in.name[0] != '/' || has_space(in.name))
        fail("a command name '" + in.name + "' from: " + line);
      for (auto& a : in.args) {
        if (a.empty() || has_space(a))
          fail("a command word '" + a + "' from: " + line);
        arguments(a);
      }
      break;
  }
  // Every argument reader on the whole line too (it is a word the user
  // could type).
  arguments(line);
  return 0;
}
