#pragma once

// The chat shell's session: its client actor, what it does with each line
// of input (shell_session.cpp), the commands (shell_commands.cpp), and the
// wait at the end for every message sent to be acknowledged. The input
// loops that feed it lines are in shell.cpp.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/shell/shell.hpp"
#include "actors/shell/shell_listener.hpp"
#include "messages/control.hpp"

namespace cafchat::shell_detail {

/// Set by SIGINT and SIGTERM in interactive mode: every wait gives up.
extern std::atomic<bool> interrupted;

class shell {
public:
  shell(caf::actor_system& sys, caf::actor lb, const shell_options& opts,
        printer& out, std::shared_ptr<shell_listener> listener);

  ~shell();

  /// Handles one input line; returns false on /quit.
  bool handle(std::string line);

  /// /faults [...]: shows or changes the network-fault simulator's settings
  /// (the grammar: actors/simulator/faults_command.hpp).
  void faults(const std::vector<std::string>& args);

  /// Waits (at most `limit_s`) until the client is connected: scripted input
  /// then starts against a ready cluster, where /kill and /status mean what
  /// they say.
  bool await_connection(double limit_s);
  /// Why the cluster refused this client for good, or "".
  std::string refusal() { return listener_->refusal(); }

  /// /sync [seconds]: waits until every message sent so far is acknowledged
  /// (for scripts that want a command to see their messages decided).
  void sync(const std::vector<std::string>& args);

  /// Waits for every sent message to be acknowledged and, with `history`,
  /// for the history as it was when we joined; returns the exit code. The
  /// history may take long (it may be large): it fails only after the drain
  /// timeout without a new entry.
  int drain(bool history);

  /// Whether anything we sent still waits for its acknowledgement.
  bool has_pending() { return !pending().empty(); }

private:
  std::vector<command> pending();

  void say(const std::string& text);

  /// Runs command `cmd` with its words `args`; returns false on /quit.
  bool run_command(const std::string& cmd,
                   const std::vector<std::string>& args);

  void help();

  bool fetch_view(cluster_view& view);

  void who();

  void status();

  void history(const std::vector<std::string>& args);

  void operate(operator_action action, const std::vector<std::string>& args,
               const std::string& cmd);

  caf::actor_system& sys_;
  caf::actor lb_;
  shell_options opts_;
  printer& out_;
  std::shared_ptr<shell_listener> listener_;
  caf::scoped_actor self_;
  caf::actor client_;
  std::optional<progress_meter> meter_;
};

} // namespace cafchat::shell_detail
