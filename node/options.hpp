#pragma once

// Command-line options shared by caf-node and caf-chat. Both `--key value`
// and `--key=value` work (CAF's own parser knows only the second form).

#include <stdexcept>
#include <string>

namespace cafchat {

class usage_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct cli_options {
  std::string config;
  std::string node;
  std::string name;
  bool jsonl = false;
  double drain_timeout_s = 30;
  bool no_shell = false;
  bool help = false;
};

/// Throws usage_error naming the bad argument.
cli_options parse_cli(int argc, char** argv, bool allow_node);

} // namespace cafchat
