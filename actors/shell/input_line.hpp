#pragma once

// How the chat shell reads one line of input, with no terminal and no
// readline: a line starting with '/' is a command, its words split at
// whitespace; '//' starts a message that begins with '/'; any other line is
// a chat message. A trailing '\r' (a line from a Windows file) is dropped.

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

} // namespace cafchat
