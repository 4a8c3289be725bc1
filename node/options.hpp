#pragma once

// Command-line options shared by caf-node and caf-chat. Both `--key value`
// and `--key=value` work (CAF's own parser knows only the second form).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "actors/shell/shell.hpp"
#include "node/config.hpp"

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
  /// caf-node --node N --bootstrap: this server founds a brand-new cluster
  /// (its storage must be new); see docs/operations.md.
  bool bootstrap = false;
  bool help = false;
  bool version = false;
  /// caf-node --web ADDR:PORT: serve the web console (overrides [web] listen).
  std::string web;
  /// --history [FROM]: write the history (from index FROM on) and exit.
  bool history = false;
  uint64_t history_from = 1;
  /// --no-history: at the end of input wait for our own messages only, not
  /// for the history as it was when we joined.
  bool no_history = false;
  /// --cert FILE --key FILE [--ca FILE]: this program's TLS certificate and
  /// key (and the CA), for a cluster with a [tls] section.
  std::string cert;
  std::string key;
  std::string ca;
};

/// Throws usage_error naming the bad argument.
cli_options parse_cli(int argc, char** argv, bool allow_node);

/// What every program of the cluster starts from.
struct program_start {
  cli_options cli;
  node_config cfg;
};

/// Parses the command line and loads the configuration, printing what is
/// wrong (as "program: ..."). Returns nothing, with `exit_code` set, when
/// the program should exit at once: 0 after --help or --version, 2 on a
/// mistake. `--version` prints "program version" (tools/launch compares
/// this line between hosts).
std::optional<program_start> start_program(int argc, char** argv,
                                           const char* program,
                                           const char* usage, bool allow_node,
                                           int& exit_code,
                                           const std::string& version = "");

/// The login name of the user, for the default --name.
std::string default_user_name();

/// Shell settings from the command line and the configuration (interactive
/// when stdin is a terminal and the output is text).
shell_options make_shell_options(const cli_options& cli, const node_config& cfg);

} // namespace cafchat
