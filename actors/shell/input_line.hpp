#pragma once

// How the chat shell reads one line of input, with no terminal and no
// readline: a line starting with '/' is a command, its words split at
// whitespace; '//' starts a message that begins with '/'; any other line is
// a chat message. A trailing '\r' (a line from a Windows file) is dropped.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cafchat {

/// One line of the shell's input.
struct input_line {
  enum kind_t {
    nothing, ///< An empty line: ignored.
    message, ///< `text` is a chat message.
    command, ///< `name` ("/history") with its words `args` (["5"]).
  };
  kind_t kind = nothing;
  std::string text;
  std::string name;
  std::vector<std::string> args;
};

input_line parse_input_line(std::string line);

/// A command's argument as a whole number in [min, max]: decimal digits
/// only (no sign, space, fraction or exponent), at most 20 of them; nothing
/// when it is not one or out of range. `/kill 4294967297` is refused here
/// rather than cut to server 1.
std::optional<uint64_t> parse_count_arg(const std::string& s, uint64_t min,
                                        uint64_t max);

/// A command's argument as seconds in [0, max]: decimal digits with at most
/// one '.' ("2", "0.5", "1."), at most 20 characters; nothing otherwise, so
/// never NaN, infinity, a sign, hex or an exponent (`/sync nan`).
std::optional<double> parse_seconds_arg(const std::string& s, double max);

/// The longest wait a shell command accepts, in seconds (a day): a bound
/// that keeps every deadline computed from it well inside its clock's range.
constexpr double max_command_seconds = 86400;

} // namespace cafchat
