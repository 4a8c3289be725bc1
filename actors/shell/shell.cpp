#include "actors/shell/shell.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <poll.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "actors/shell/shell_session.hpp"

// The shell's input loops: scripted (stdin is not a terminal), --history
// (no input), and interactive, where GNU readline edits the line and output
// is printed above the prompt. The session they feed is shell_session.hpp.

namespace cafchat {

namespace {

using shell_detail::interrupted;
using shell_detail::printer;
using shell_detail::shell;
using shell_detail::shell_listener;

// -- signals -----------------------------------------------------------------

int signal_wake_fd = -1;

extern "C" void on_signal(int) {
  interrupted = true;
  if (signal_wake_fd >= 0) {
    char b = 2;
    auto r = ::write(signal_wake_fd, &b, 1);
    static_cast<void>(r);
  }
}

// -- input loops -------------------------------------------------------------

/// The cluster refused us for good ("name in use"): say why; exit code 2.
bool refused(shell& sh) {
  auto why = sh.refusal();
  if (why.empty())
    return false;
  std::cerr << "cafchat: " << why << std::endl;
  return true;
}

int scripted_loop(shell& sh, const shell_options& opts) {
  sh.await_connection(60);
  if (refused(sh))
    return 2;
  std::string line;
  while (!interrupted && std::getline(std::cin, line))
    if (!sh.handle(line))
      break;
  return sh.drain(opts.wait_history);
}

/// --history: no input; the history as it was when we joined, then exit.
int dump_loop(shell& sh) {
  sh.await_connection(60);
  if (refused(sh))
    return 2;
  return sh.drain(true);
}

shell* active_shell = nullptr;
bool quit_requested = false;

bool prompt_removed = false;

/// Leaving: readline shows no prompt any more. Called from the line handler
/// itself, readline does not draw the prompt again for a next line.
void remove_prompt() {
  if (!prompt_removed)
    rl_callback_handler_remove();
  prompt_removed = true;
}

extern "C" void on_readline(char* line) {
  if (line == nullptr) {
    // Ctrl-D: the cursor is still on the prompt's line.
    remove_prompt();
    std::fputc('\n', stdout);
    quit_requested = true;
    return;
  }
  std::string s{line};
  if (!s.empty())
    add_history(line);
  std::free(line);
  if (!active_shell->handle(s)) {
    remove_prompt(); // readline echoed the newline of /quit
    quit_requested = true;
  }
}

void print_above_prompt(printer& out) {
  auto lines = out.take();
  if (lines.empty())
    return;
  // Save what the user is typing, print, then restore the prompt and line.
  int point = rl_point;
  char* saved = rl_copy_text(0, rl_end);
  rl_save_prompt();
  rl_replace_line("", 0);
  rl_redisplay();
  std::fputs("\r\x1b[K", stdout);
  for (auto& l : lines) {
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fputc('\n', stdout);
  }
  rl_restore_prompt();
  rl_replace_line(saved, 0);
  rl_point = point;
  rl_forced_update_display();
  std::free(saved);
}

int interactive_loop(shell& sh, printer& out, int wake_read,
                     const std::string& prompt) {
  std::string hist;
  if (auto home = std::getenv("HOME"))
    hist = std::string(home) + "/.cafchat_history";
  if (!hist.empty())
    read_history(hist.c_str());
  active_shell = &sh;
  std::fputs("cafchat: connecting to the cluster ...\n", stdout);
  std::fflush(stdout);
  sh.await_connection(60);
  if (refused(sh))
    return 2;
  rl_callback_handler_install(prompt.c_str(), on_readline);
  out.text("cafchat: type a message and press Enter; /help lists commands.");
  print_above_prompt(out);
  while (!quit_requested && !interrupted) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_read, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR)
      break;
    if (fds[1].revents & POLLIN) {
      char buf[256];
      auto r = ::read(wake_read, buf, sizeof(buf));
      static_cast<void>(r);
      print_above_prompt(out);
    }
    if (fds[0].revents & (POLLIN | POLLHUP))
      rl_callback_read_char();
  }
  if (!prompt_removed) {
    // Ctrl-C: the cursor is still on the prompt's line.
    remove_prompt();
    std::fputc('\n', stdout);
  }
  if (!hist.empty()) {
    write_history(hist.c_str());
    history_truncate_file(hist.c_str(), 1000);
  }
  // From here on lines go straight out: no prompt takes input any more.
  out.direct();
  if (sh.has_pending())
    out.text("-- waiting for your messages to be delivered ...");
  return sh.drain(false);
}

} // namespace

int run_shell(caf::actor_system& sys, const caf::actor& load_balancer,
              const shell_options& opts) {
  int wake[2];
  if (::pipe(wake) != 0) {
    std::perror("cafchat: pipe");
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  if (opts.interactive) {
    // Ctrl-C leaves like /quit; scripted runs keep the default (terminate).
    signal_wake_fd = wake[1];
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
  }
  auto shared_out = std::make_shared<printer>(opts.jsonl, opts.interactive,
                                              wake[1], opts.dump_history);
  auto& out = *shared_out;
  auto listener = std::make_shared<shell_listener>(shared_out);
  int rc;
  {
    shell sh{sys, load_balancer, opts, out, listener};
    if (opts.interactive)
      rc = interactive_loop(sh, out, wake[0], opts.name + "> ");
    else if (opts.dump_history)
      rc = dump_loop(sh);
    else
      rc = scripted_loop(sh, opts);
  }
  signal_wake_fd = -1;
  ::close(wake[0]);
  ::close(wake[1]);
  return rc;
}

} // namespace cafchat
