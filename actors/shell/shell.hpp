#pragma once

// The chat shell, shared by caf-node (whole cluster in one process) and
// caf-chat (a client process of a multi-process cluster).
//
// Interactive when stdin is a terminal: GNU readline gives line editing and a
// history (kept in ~/.cafchat_history); chat messages that arrive while you
// type are printed above the prompt. Scriptable otherwise: every line is sent
// as a message. A line starting with '/' is a command in both modes (start a
// message with '//' to send a literal '/').
//
// With --output jsonl, stdout carries only JSON lines: one per delivered
// message, {"index":N,"slot":S,"from":"alice","seq":K,"text":"...","client":C},
// and one per notice, with an "event" key. At the end of input the shell waits
// until every message it sent is acknowledged (seen in the history) and exits
// 0, or exits 1 after the drain timeout, naming the unacknowledged messages on
// stderr.

#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/io/middleman_actor.hpp"

namespace cafchat {

struct shell_options {
  std::string name;              ///< Sender name shown to others.
  bool jsonl = false;            ///< --output jsonl
  double drain_timeout_s = 30;   ///< --drain-timeout
  uint32_t client_retry_ms = 1000;
  uint32_t client_retry_max_ms = 600000;
  uint32_t connect_timeout_ms = 2000;
  uint32_t max_text_bytes = 4096;
  bool interactive = false;      ///< stdin is a terminal
  /// Multi-process clusters: the middleman, to reach servers directly.
  caf::io::middleman_actor middleman;
};

/// Runs the shell until /quit or end of input; returns the exit code.
int run_shell(caf::actor_system& sys, const caf::actor& load_balancer,
              const shell_options& opts);

} // namespace cafchat
