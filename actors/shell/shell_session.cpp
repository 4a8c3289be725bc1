#include "actors/shell/shell_session.hpp"

#include <chrono>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/common/client_key.hpp"
#include "actors/session/client_session.hpp"
#include "actors/shell/input_line.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

namespace cafchat::shell_detail {

std::atomic<bool> interrupted{false};

shell::shell(caf::actor_system& sys, caf::actor lb,
             const shell_options& opts, printer& out,
             std::shared_ptr<shell_listener> listener)
  : sys_(sys), lb_(std::move(lb)), opts_(opts), out_(out),
    listener_(std::move(listener)), self_(sys, true) {
  client_config cc;
  // The client's secret, kept for all its reconnects; its id follows from
  // it (actors/common/client_key.hpp).
  cc.key = new_client_key();
  cc.name = opts.name;
  cc.load_balancer = lb_;
  cc.retry_ms = opts.client_retry_ms;
  cc.retry_max_ms = opts.client_retry_max_ms;
  cc.connect_timeout_ms = opts.connect_timeout_ms;
  cc.max_text_bytes = opts.max_text_bytes;
  cc.listener = listener_;
  cc.middleman = opts.middleman;
  if (opts.dump_history)
    cc.resume_after = opts.history_from - 1;
  client_ = sys.spawn(client_actor, cc);
  if (opts.progress && (opts.wait_history || opts.dump_history))
    meter_.emplace(listener_, opts.dump_history ? opts.history_from : 1);
}

shell::~shell() {
  meter_.reset();
  // Wait until the client is gone: it calls the listener on its own thread,
  // and nothing may print after the shell's output is done.
  self_->monitor(client_);
  caf::anon_send_exit(client_, caf::exit_reason::user_shutdown);
  self_->receive([](const caf::down_msg&) {},
                 caf::after(std::chrono::seconds(5)) >> [] {});
}

bool shell::handle(std::string line) {
  auto in = parse_input_line(std::move(line));
  switch (in.kind) {
    case input_line::nothing:
      return true;
    case input_line::command:
      return run_command(in.name, in.args);
    case input_line::message:
      break;
  }
  say(in.text);
  return true;
}

bool shell::await_connection(double limit_s) {
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(static_cast<int64_t>(limit_s * 1000));
  while (!interrupted && std::chrono::steady_clock::now() < deadline
         && listener_->refusal().empty()) {
    bool connected = false;
    self_->request(client_, std::chrono::seconds(5), status_atom::value)
      .receive([&](const client_placement& p) { connected = p.server != 0; },
               [](caf::error&) {});
    if (connected)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void shell::sync(const std::vector<std::string>& args) {
  double limit = opts_.drain_timeout_s;
  if (!args.empty()) {
    auto v = parse_seconds_arg(args[0], max_command_seconds);
    if (args.size() != 1 || !v) {
      out_.error("usage: /sync [seconds], at most "
                 + std::to_string(static_cast<int>(max_command_seconds)));
      return;
    }
    limit = *v;
  }
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(static_cast<int64_t>(limit * 1000));
  while (!pending().empty()) {
    if (std::chrono::steady_clock::now() >= deadline || interrupted) {
      out_.error("/sync: messages still unacknowledged");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int shell::drain(bool history) {
  using clock = std::chrono::steady_clock;
  auto limit = std::chrono::milliseconds(
    static_cast<int64_t>(opts_.drain_timeout_s * 1000));
  auto deadline = clock::now() + limit;
  auto history_deadline = deadline;
  auto seen = listener_->downloaded().upto;
  for (;;) {
    auto left = pending();
    auto d = listener_->downloaded();
    if (d.upto != seen) {
      seen = d.upto;
      history_deadline = clock::now() + limit;
    }
    bool history_done = !history || d.complete();
    if (left.empty() && history_done) {
      meter_.reset();
      return 0;
    }
    auto now = clock::now();
    if ((!left.empty() && now >= deadline)
        || (!history_done && now >= history_deadline) || interrupted) {
      meter_.reset(); // its last line first
      std::ostringstream os;
      if (!left.empty()) {
        os << "cafchat: " << left.size()
           << " message(s) not acknowledged after " << opts_.drain_timeout_s
           << " s:";
        for (auto& c : left)
          os << "\n  seq " << c.seq << ": " << c.text;
      }
      if (!history_done) {
        if (!left.empty())
          os << "\n";
        if (d.sized)
          os << "cafchat: the history is incomplete: entries up to "
             << d.upto << " of " << d.target << " arrived, then none for "
             << opts_.drain_timeout_s << " s";
        else
          os << "cafchat: no history from the cluster after "
             << opts_.drain_timeout_s << " s";
      }
      std::cerr << os.str() << std::endl;
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<command> shell::pending() {
  std::vector<command> result;
  self_->request(client_, std::chrono::seconds(5), pending_atom::value)
    .receive([&](std::vector<command>& xs) { result = std::move(xs); },
             [&](caf::error&) {});
  return result;
}

void shell::say(const std::string& text) {
  auto why = validate_text(text, opts_.max_text_bytes);
  if (!why.empty()) {
    out_.error(why);
    return;
  }
  self_->request(client_, std::chrono::seconds(5), say_atom::value, text)
    .receive([](uint64_t) {},
             [&](caf::error& e) { out_.error(describe(e)); });
}

} // namespace cafchat::shell_detail
