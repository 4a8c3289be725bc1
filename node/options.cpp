#include "node/options.hpp"

#include <cmath>
#include <iostream>
#include <cstdlib>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include "actors/session/client_session.hpp"
#include "actors/shell/input_line.hpp" // max_command_seconds

namespace cafchat {

cli_options parse_cli(int argc, char** argv, bool allow_node) {
  cli_options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    auto arg = args[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      continue;
    }
    if (arg == "--version") {
      o.version = true;
      continue;
    }
    if (arg == "--no-shell") {
      o.no_shell = true;
      continue;
    }
    if (arg == "--no-history") {
      o.no_history = true;
      continue;
    }
    if (arg == "--history" || arg.rfind("--history=", 0) == 0) {
      // The index is optional: "--history" alone is the whole history.
      o.history = true;
      std::string from;
      if (arg != "--history")
        from = arg.substr(arg.find('=') + 1);
      else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
        from = args[++i];
      else
        continue;
      char* end = nullptr;
      auto v = std::strtoull(from.c_str(), &end, 10);
      if (from.empty() || from[0] == '-' || *end != '\0' || v == 0)
        throw usage_error("--history takes the index to start from (1 or "
                          "more), not '" + from + "'");
      o.history_from = v;
      continue;
    }
    if (arg == "--bootstrap" && allow_node) {
      o.bootstrap = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      throw usage_error("unexpected argument '" + arg + "'");
    std::string key = arg;
    std::string val;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      key = arg.substr(0, eq);
      val = arg.substr(eq + 1);
    } else {
      if (i + 1 >= args.size())
        throw usage_error(key + " needs a value");
      val = args[++i];
    }
    if (val.empty())
      throw usage_error(key + " needs a value");
    if (key == "--config") {
      o.config = val;
    } else if (key == "--node" && allow_node) {
      o.node = val;
    } else if (key == "--name") {
      if (auto why = validate_name(val); !why.empty())
        throw usage_error("--name: " + why);
      o.name = val;
    } else if (key == "--output") {
      if (val != "jsonl" && val != "text")
        throw usage_error("--output must be jsonl or text, not '" + val + "'");
      o.jsonl = val == "jsonl";
    } else if (key == "--web" && allow_node) {
      try {
        parse_web_endpoint(val);
      } catch (std::invalid_argument& e) {
        throw usage_error("--web: " + std::string(e.what()));
      }
      o.web = val;
    } else if (key == "--cert") {
      o.cert = val;
    } else if (key == "--key") {
      o.key = val;
    } else if (key == "--ca") {
      o.ca = val;
    } else if (key == "--drain-timeout") {
      char* end = nullptr;
      auto d = std::strtod(val.c_str(), &end);
      // Bounded: the shell turns it into a deadline in milliseconds.
      if (end == val.c_str() || *end != '\0' || !std::isfinite(d) || d < 0
          || d > max_command_seconds)
        throw usage_error("--drain-timeout must be a number of seconds from 0 "
                          "to 86400, not '" + val + "'");
      o.drain_timeout_s = d;
    } else {
      throw usage_error("unknown option " + key);
    }
  }
  if (!o.help && !o.version && o.config.empty())
    throw usage_error("--config FILE is required");
  return o;
}

std::optional<program_start> start_program(int argc, char** argv,
                                           const char* program,
                                           const char* usage, bool allow_node,
                                           int& exit_code,
                                           const std::string& version) {
  program_start start;
  try {
    start.cli = parse_cli(argc, argv, allow_node);
  } catch (usage_error& e) {
    std::cerr << program << ": " << e.what() << "\n\n" << usage;
    exit_code = 2;
    return std::nullopt;
  }
  if (start.cli.help) {
    std::cout << usage;
    exit_code = 0;
    return std::nullopt;
  }
  if (start.cli.version) {
    std::cout << program << " " << (version.empty() ? "unknown" : version)
              << std::endl;
    exit_code = 0;
    return std::nullopt;
  }
  try {
    start.cfg = load_config(start.cli.config);
  } catch (config_error& e) {
    std::cerr << program << ": " << e.what() << std::endl;
    exit_code = 2;
    return std::nullopt;
  }
  return start;
}

std::string default_user_name() {
  if (auto u = std::getenv("USER"); u != nullptr && *u != '\0')
    return u;
  if (auto pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  return "user";
}

shell_options make_shell_options(const cli_options& cli,
                                 const node_config& cfg) {
  shell_options so;
  so.name = cli.name.empty() ? default_user_name() : cli.name;
  so.jsonl = cli.jsonl;
  so.drain_timeout_s = cli.drain_timeout_s;
  so.wait_history = !cli.no_history;
  so.dump_history = cli.history;
  so.history_from = cli.history_from;
  so.client_retry_ms = cfg.client_retry_ms;
  so.client_retry_max_ms = cfg.client_retry_max_ms;
  so.connect_timeout_ms = cfg.client_connect_timeout_ms;
  so.max_text_bytes = cfg.params.max_text_bytes;
  so.interactive = ::isatty(STDIN_FILENO) != 0 && !cli.jsonl && !cli.history;
  // Progress goes to a terminal while the history itself goes elsewhere (on
  // the same terminal the scrolling entries are the progress).
  so.progress = !so.interactive && ::isatty(STDERR_FILENO) != 0
                && ::isatty(STDOUT_FILENO) == 0;
  return so;
}

} // namespace cafchat
