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
// Messages show as "[index] HH:MM name: text": the index is the message's
// position in the one history all clients share, HH:MM the local time the
// leader ordered it (the same moment at every client).
//
// With --output jsonl, stdout carries only JSON lines: one per delivered
// message, {"index":N,"slot":S,"from":"alice","seq":K,"text":"...","client":C,
// "time":"2025-01-31T09:15:02.137Z"} (ISO 8601, UTC, milliseconds), and one
// per notice, with an "event" key. At the end of input the shell waits until
// every message it sent is acknowledged (seen in the history) and until it
// has the history as it was when it joined (not with --no-history), and
// exits 0; or exits 1 after the drain timeout (for the history: that long
// without a new entry), saying on stderr what is missing. With --history
// [FROM] it reads no input: it writes the history (from index FROM on) as it
// was when it joined, and exits; notices then go to stderr. A history
// download that takes over a second shows its progress on stderr when that
// is a terminal.

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
  /// At the end of input, wait for the history as it was when we joined
  /// (off: --no-history).
  bool wait_history = true;
  /// --history [FROM]: only write the history from index `history_from` on.
  bool dump_history = false;
  uint64_t history_from = 1;
  bool progress = false;         ///< stderr is a terminal: show downloads
  /// Multi-process clusters: the middleman, to reach servers directly.
  caf::io::middleman_actor middleman;
};

/// Runs the shell until /quit or end of input; returns the exit code.
int run_shell(caf::actor_system& sys, const caf::actor& load_balancer,
              const shell_options& opts);

} // namespace cafchat
