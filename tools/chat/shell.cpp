#include "tools/chat/shell.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <fmt/format.h>

#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/client/client_actor.hpp"
#include "actors/common/event_log.hpp"
#include "actors/session/client_session.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

namespace cafchat {

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
  so.client_retry_ms = cfg.client_retry_ms;
  so.client_retry_max_ms = cfg.client_retry_max_ms;
  so.connect_timeout_ms = cfg.client_connect_timeout_ms;
  so.max_text_bytes = cfg.params.max_text_bytes;
  so.interactive = ::isatty(STDIN_FILENO) != 0 && !cli.jsonl;
  return so;
}

namespace {

// -- output ------------------------------------------------------------------

/// All output goes through here: JSON lines or text, to stdout; in
/// interactive mode lines are queued and printed above the readline prompt by
/// the main loop, which a byte on `wake_fd` wakes up.
class printer {
public:
  printer(bool jsonl, bool interactive, int wake_fd)
    : jsonl_(jsonl), interactive_(interactive), wake_fd_(wake_fd) {}

  void entry(const chat_entry& e) {
    if (jsonl_) {
      std::string s = "{\"index\":" + std::to_string(e.index)
                      + ",\"slot\":" + std::to_string(e.slot) + ",\"from\":\"";
      json_escape(s, e.from);
      s += "\",\"seq\":" + std::to_string(e.seq) + ",\"text\":\"";
      json_escape(s, e.text);
      s += "\",\"client\":" + std::to_string(e.client) + "}";
      line(std::move(s));
    } else {
      line("[" + std::to_string(e.index) + "] " + e.from + ": " + e.text);
    }
  }

  /// A notice: JSON {"event":..., ...} or "-- text".
  void notice(const std::string& event, const std::string& text,
              const std::vector<std::pair<std::string, std::string>>& fields
              = {}) {
    if (jsonl_) {
      std::string s = "{\"event\":\"";
      json_escape(s, event);
      s += '"';
      for (auto& [k, v] : fields) {
        s += ",\"";
        json_escape(s, k);
        s += "\":";
        s += v; // already JSON
      }
      if (!text.empty()) {
        s += ",\"detail\":\"";
        json_escape(s, text);
        s += '"';
      }
      s += '}';
      line(std::move(s));
    } else {
      line("-- " + text);
    }
  }

  /// Plain text output of a command (text mode only).
  void text(const std::string& s) {
    if (!jsonl_)
      line(s);
  }

  /// A raw JSON line (jsonl mode only).
  void json(std::string s) {
    if (jsonl_)
      line(std::move(s));
  }

  void error(const std::string& msg) { notice("error", "error: " + msg, {}); }

  /// Interactive mode: takes the queued lines.
  std::deque<std::string> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::move(queue_);
  }

  bool jsonl() const { return jsonl_; }

private:
  void line(std::string s) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!interactive_) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      return;
    }
    queue_.push_back(std::move(s));
    char b = 1;
    if (::write(wake_fd_, &b, 1) < 0) {
      // A full pipe already guarantees a wake-up.
    }
  }

  bool jsonl_;
  bool interactive_;
  int wake_fd_;
  std::mutex mtx_;
  std::deque<std::string> queue_;
};

std::string quoted(const std::string& s) {
  std::string r = "\"";
  json_escape(r, s);
  return r + "\"";
}

/// Turns what the client sees into output, and keeps recent history for
/// /history.
class shell_listener : public client_listener {
public:
  /// The listener shares the printer: the client actor calls it on its own
  /// thread, and may do so until it is gone.
  explicit shell_listener(std::shared_ptr<printer> out)
    : owned_(std::move(out)), out_(*owned_) {}

  void on_entries(const std::vector<chat_entry>& entries) override {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& e : entries) {
      out_.entry(e);
      recent_.push_back(e);
      if (recent_.size() > recent_max)
        recent_.pop_front();
    }
  }

  void on_notice(const client_notice& n) override {
    std::vector<std::pair<std::string, std::string>> f;
    if (n.server != 0)
      f.emplace_back("server", std::to_string(n.server));
    if (n.seq != 0)
      f.emplace_back("seq", std::to_string(n.seq));
    std::string text;
    std::string event = to_string(n.event);
    switch (n.event) {
      case notice_kind::connected:
        text = "connected to server " + std::to_string(n.server);
        break;
      case notice_kind::server_lost:
        text = "server " + std::to_string(n.server) + " is gone: " + n.detail;
        break;
      case notice_kind::waiting:
        text = "waiting for the cluster: " + n.detail;
        break;
      case notice_kind::rejected:
        text = "message " + std::to_string(n.seq) + " refused: " + n.detail;
        break;
      default:
        text = event + ": " + n.detail;
    }
    if (out_.jsonl()) {
      out_.notice(event, n.detail, f);
    } else {
      out_.notice(event, text, f);
    }
  }

  std::vector<chat_entry> recent(size_t n) {
    std::lock_guard<std::mutex> guard{mtx_};
    n = std::min(n, recent_.size());
    return {recent_.end() - static_cast<std::ptrdiff_t>(n), recent_.end()};
  }

  static constexpr size_t recent_max = 10000;

private:
  std::shared_ptr<printer> owned_;
  printer& out_;
  std::mutex mtx_;
  std::deque<chat_entry> recent_;
};

// -- signals -----------------------------------------------------------------

std::atomic<bool> interrupted{false};
int signal_wake_fd = -1;

extern "C" void on_signal(int) {
  interrupted = true;
  if (signal_wake_fd >= 0) {
    char b = 2;
    auto r = ::write(signal_wake_fd, &b, 1);
    static_cast<void>(r);
  }
}

// -- the shell ---------------------------------------------------------------

class shell {
public:
  shell(caf::actor_system& sys, caf::actor lb, const shell_options& opts,
        printer& out, std::shared_ptr<shell_listener> listener)
    : sys_(sys), lb_(std::move(lb)), opts_(opts), out_(out),
      listener_(std::move(listener)), self_(sys, true) {
    client_config cc;
    std::random_device rd;
    cc.id = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ ::getpid();
    cc.name = opts.name;
    cc.load_balancer = lb_;
    cc.retry_ms = opts.client_retry_ms;
    cc.retry_max_ms = opts.client_retry_max_ms;
    cc.connect_timeout_ms = opts.connect_timeout_ms;
    cc.max_text_bytes = opts.max_text_bytes;
    cc.listener = listener_;
    cc.middleman = opts.middleman;
    client_ = sys.spawn(client_actor, cc);
  }

  ~shell() {
    // Wait until the client is gone: it calls the listener on its own thread,
    // and nothing may print after the shell's output is done.
    self_->monitor(client_);
    caf::anon_send_exit(client_, caf::exit_reason::user_shutdown);
    self_->receive([](const caf::down_msg&) {},
                   caf::after(std::chrono::seconds(5)) >> [] {});
  }

  /// Handles one input line; returns false on /quit.
  bool handle(std::string line) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      return true;
    if (line.rfind("//", 0) == 0)
      return say(line.substr(1)), true;
    if (line[0] == '/')
      return run_command(line);
    say(line);
    return true;
  }

  /// /faults [...]: shows or changes the network-fault simulator's settings.
  ///   /faults                       show
  ///   /faults off                   no faults at all
  ///   /faults <server> <rule>       prior system 001's rule, e.g. p:10::a:20
  ///   /faults <server> clear        remove that server's rule
  ///   /faults drop <p> | dup <p>    probabilities in [0, 1]
  ///   /faults delay <min> <max>     milliseconds
  ///   /faults omission on [<min_s> <max_s>] | off
  ///   /faults isolate <server> | split <a,b,..> | heal
  void faults(const std::vector<std::string>& args) {
    static const char* usage =
      "usage: /faults [off | <server> <rule>|clear | drop <p> | dup <p> | "
      "delay <min_ms> <max_ms> | omission on [<min_s> <max_s>]|off | "
      "isolate <server> | split <a,b,...> | heal]";
    sim_control ctl;
    auto number = [&](size_t i, double& out) {
      if (i >= args.size())
        return false;
      char* end = nullptr;
      out = std::strtod(args[i].c_str(), &end);
      return end != args[i].c_str() && *end == '\0';
    };
    double a = 0, b = 0;
    auto& verb = args.empty() ? std::string() : args[0];
    if (args.empty()) {
      ctl.action = sim_action::query;
    } else if (verb == "off" && args.size() == 1) {
      ctl.action = sim_action::all_off;
    } else if (verb == "heal" && args.size() == 1) {
      ctl.action = sim_action::heal;
    } else if ((verb == "drop" || verb == "dup") && args.size() == 2
               && number(1, a)) {
      ctl.action = verb == "drop" ? sim_action::drop : sim_action::duplicate;
      ctl.probability = a;
    } else if (verb == "delay" && args.size() == 3 && number(1, a)
               && number(2, b) && a >= 0 && b >= 0) {
      ctl.action = sim_action::delay;
      ctl.min_ms = static_cast<uint32_t>(a);
      ctl.max_ms = static_cast<uint32_t>(b);
    } else if (verb == "omission" && args.size() >= 2
               && (args[1] == "on" || args[1] == "off")) {
      ctl.action = sim_action::omission;
      ctl.on = args[1] == "on";
      if (args.size() == 4 && number(2, a) && number(3, b) && a >= 0
          && b >= 0) {
        ctl.min_ms = static_cast<uint32_t>(a * 1000);
        ctl.max_ms = static_cast<uint32_t>(b * 1000);
      } else if (args.size() != 2) {
        out_.error(usage);
        return;
      }
    } else if (verb == "isolate" && args.size() == 2 && number(1, a) && a > 0) {
      ctl.action = sim_action::isolate;
      ctl.server = static_cast<server_id>(a);
    } else if (verb == "split" && args.size() == 2) {
      ctl.action = sim_action::split;
      std::istringstream in{args[1]};
      for (std::string part; std::getline(in, part, ',');) {
        char* end = nullptr;
        auto v = std::strtoul(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || v == 0) {
          out_.error(usage);
          return;
        }
        ctl.servers.push_back(static_cast<server_id>(v));
      }
    } else if (args.size() == 2 && number(0, a) && a > 0) {
      ctl.server = static_cast<server_id>(a);
      if (args[1] == "clear") {
        ctl.action = sim_action::clear_rule;
      } else {
        ctl.action = sim_action::set_rule;
        ctl.rule = args[1];
      }
    } else {
      out_.error(usage);
      return;
    }
    caf::actor sim;
    self_->request(lb_, std::chrono::seconds(5), sim_atom::value)
      .receive([&](const caf::actor& x) { sim = x; },
               [&](caf::error& e) { out_.error(describe(e)); });
    if (!sim) {
      out_.error("the network-fault simulator is not running (set [simulator] "
                 "enabled = true)");
      return;
    }
    self_->request(sim, std::chrono::seconds(5), ctl)
      .receive(
        [&](const sim_report& r) {
          out_.notice("faults", "faults: " + r.summary,
                      {{"faulty", std::to_string(r.faulty)},
                       {"dropped", std::to_string(r.dropped)},
                       {"forwarded", std::to_string(r.forwarded)}});
        },
        [&](caf::error& e) { out_.error(describe(e)); });
  }

  /// Waits (at most `limit_s`) until the client is connected: scripted input
  /// then starts against a ready cluster, where /kill and /status mean what
  /// they say.
  bool await_connection(double limit_s) {
    auto deadline = std::chrono::steady_clock::now()
                    + std::chrono::milliseconds(static_cast<int64_t>(limit_s * 1000));
    while (!interrupted && std::chrono::steady_clock::now() < deadline) {
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

  /// /sync [seconds]: waits until every message sent so far is acknowledged
  /// (for scripts that want a command to see their messages decided).
  void sync(const std::vector<std::string>& args) {
    double limit = opts_.drain_timeout_s;
    if (!args.empty()) {
      char* end = nullptr;
      limit = std::strtod(args[0].c_str(), &end);
      if (end == args[0].c_str() || *end != '\0' || limit < 0) {
        out_.error("usage: /sync [seconds]");
        return;
      }
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

  /// Waits for every sent message to be acknowledged; returns the exit code.
  int drain() {
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now()
                    + std::chrono::milliseconds(
                      static_cast<int64_t>(opts_.drain_timeout_s * 1000));
    for (;;) {
      auto left = pending();
      if (left.empty())
        return 0;
      if (clock::now() >= deadline || interrupted) {
        std::ostringstream os;
        os << "cafchat: " << left.size()
           << " message(s) not acknowledged after " << opts_.drain_timeout_s
           << " s:";
        for (auto& c : left)
          os << "\n  seq " << c.seq << ": " << c.text;
        std::cerr << os.str() << std::endl;
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

private:
  std::vector<command> pending() {
    std::vector<command> result;
    self_->request(client_, std::chrono::seconds(5), pending_atom::value)
      .receive([&](std::vector<command>& xs) { result = std::move(xs); },
               [&](caf::error&) {});
    return result;
  }

  void say(const std::string& text) {
    auto why = validate_text(text, opts_.max_text_bytes);
    if (!why.empty()) {
      out_.error(why);
      return;
    }
    self_->request(client_, std::chrono::seconds(5), say_atom::value, text)
      .receive([](uint64_t) {},
               [&](caf::error& e) { out_.error(describe(e)); });
  }

  bool run_command(const std::string& line) {
    std::istringstream in{line};
    std::string cmd;
    in >> cmd;
    std::vector<std::string> args;
    for (std::string a; in >> a;)
      args.push_back(a);
    if (cmd == "/quit" || cmd == "/exit")
      return false;
    if (cmd == "/help")
      help();
    else if (cmd == "/who")
      who();
    else if (cmd == "/status")
      status();
    else if (cmd == "/history")
      history(args);
    else if (cmd == "/kill" || cmd == "/restart")
      operate(cmd == "/kill" ? operator_action::kill : operator_action::restart,
              args, cmd);
    else if (cmd == "/wipe")
      operate(operator_action::wipe, args, cmd);
    else if (cmd == "/skip-slot")
      operate(operator_action::skip_slot, {}, cmd);
    else if (cmd == "/sync")
      sync(args);
    else if (cmd == "/faults")
      faults(args);
    else
      out_.error("unknown command " + cmd + " (try /help)");
    return true;
  }

  void help() {
    if (out_.jsonl()) {
      out_.notice("help", "commands: /help /who /status /history [n] "
                          "/kill <server> /restart <server> /wipe <server> "
                          "/skip-slot /faults ... /sync [s] /quit");
      return;
    }
    out_.text("  <text>            send a chat message (//text sends '/text')\n"
              "  /who              clients and the servers they use\n"
              "  /status           servers, leader, ballot, last decided slot\n"
              "  /history [n]      the last n messages (default 20)\n"
              "  /kill <server>    crash a server (its storage survives)\n"
              "  /restart <server> start a crashed server again; it catches up\n"
              "  /wipe <server>    crash a server and lose its storage (a dead\n"
              "                    disk); /restart then rejoins it safely\n"
              "  /skip-slot        make the leader leave a hole in the log\n"
              "  /faults ...       show or set network faults: off, <server> <rule>\n"
              "                    (p:10::a:20::c:30, d:0), drop <p>, dup <p>,\n"
              "                    delay <min_ms> <max_ms>, omission on|off,\n"
              "                    isolate <server>, split <a,b>, heal\n"
              "  /sync [s]         wait until your messages are delivered\n"
              "  /quit             leave (after your messages are delivered)");
  }

  bool fetch_view(cluster_view& view) {
    bool ok = false;
    self_->request(lb_, std::chrono::seconds(5), status_atom::value)
      .receive(
        [&](cluster_view& v) {
          view = std::move(v);
          ok = true;
        },
        [&](caf::error& e) { out_.error("cannot reach the load balancer: "
                                        + describe(e)); });
    return ok;
  }

  void who() {
    cluster_view v;
    if (!fetch_view(v))
      return;
    if (out_.jsonl()) {
      std::string s = "{\"event\":\"who\",\"clients\":[";
      for (size_t i = 0; i < v.clients.size(); ++i) {
        auto& c = v.clients[i];
        s += (i ? "," : "") + std::string("{\"client\":")
             + std::to_string(c.client) + ",\"name\":" + quoted(c.name)
             + ",\"server\":" + std::to_string(c.server) + "}";
      }
      out_.json(s + "]}");
      return;
    }
    std::string s = std::to_string(v.clients.size()) + " client(s):";
    for (auto& c : v.clients)
      s += "\n  " + c.name + " (client " + std::to_string(c.client % 100000)
           + ") on server " + std::to_string(c.server);
    out_.text(s);
  }

  void status() {
    cluster_view v;
    if (!fetch_view(v))
      return;
    if (out_.jsonl()) {
      std::string s = "{\"event\":\"status\",\"ready\":"
                      + std::string(v.ready ? "true" : "false")
                      + ",\"servers\":[";
      for (size_t i = 0; i < v.servers.size(); ++i) {
        auto& x = v.servers[i];
        s += (i ? "," : "") + std::string("{\"id\":") + std::to_string(x.id)
             + ",\"alive\":" + (x.alive ? "true" : "false")
             + ",\"role\":" + quoted(to_string(x.role)) + ",\"ballot\":["
             + std::to_string(x.bal.round) + "," + std::to_string(x.bal.node)
             + "],\"leader\":" + std::to_string(x.leader)
             + ",\"chosen_upto\":" + std::to_string(x.chosen_upto)
             + ",\"delivered_upto\":" + std::to_string(x.delivered_upto)
             + ",\"history\":" + std::to_string(x.history_size)
             + ",\"clients\":" + std::to_string(x.sessions)
             + ",\"acceptor\":" + quoted(to_string(x.acceptor))
             + ",\"waiting\":" + quoted(x.waiting)
             + ",\"timeout_ms\":" + std::to_string(x.timeout_ms)
             + ",\"peers\":" + std::to_string(x.peers) + "}";
      }
      out_.json(s + "]}");
      return;
    }
    std::string s = v.ready ? "" : "(still waiting for servers to register)\n";
    s += fmt::format("{:<7} {:<12} {:<9} {:<7} {:<9} {:<10} {:<8} {}", "server",
                     "role", "ballot", "leader", "decided", "delivered",
                     "history", "clients");
    for (auto& x : v.servers)
      s += fmt::format("\n{:<7} {:<12} {:<9} {:<7} {:<9} {:<10} {:<8} {}", x.id,
                       to_string(x.role),
                       x.alive ? fmt::format("({},{})", x.bal.round, x.bal.node)
                               : "-",
                       x.leader ? std::to_string(x.leader) : "-",
                       x.chosen_upto, x.delivered_upto, x.history_size,
                       x.sessions);
    for (auto& x : v.servers)
      if (x.alive && x.acceptor == acceptor_status::rejoining)
        s += fmt::format("\nserver {} does not vote: {}", x.id, x.waiting);
    out_.text(s);
  }

  void history(const std::vector<std::string>& args) {
    size_t n = 20;
    if (!args.empty()) {
      char* end = nullptr;
      auto v = std::strtoul(args[0].c_str(), &end, 10);
      if (end == args[0].c_str() || *end != '\0' || v == 0) {
        out_.error("usage: /history [n], n a positive number");
        return;
      }
      n = v;
    }
    auto entries = listener_->recent(n);
    if (out_.jsonl()) {
      std::string s = "{\"event\":\"history\",\"count\":"
                      + std::to_string(entries.size()) + "}";
      out_.json(s);
    }
    for (auto& e : entries)
      out_.entry(e);
  }

  void operate(operator_action action, const std::vector<std::string>& args,
               const std::string& cmd) {
    server_id target = 0;
    if (action != operator_action::skip_slot) {
      char* end = nullptr;
      auto v = args.empty() ? 0 : std::strtoul(args[0].c_str(), &end, 10);
      if (args.size() != 1 || v == 0 || *end != '\0') {
        out_.error("usage: " + cmd + " <server id>");
        return;
      }
      target = static_cast<server_id>(v);
    }
    self_->request(lb_, std::chrono::seconds(5), operator_command{action, target})
      .receive(
        [&](bool ok) {
          std::string what = to_string(action);
          if (action == operator_action::skip_slot)
            out_.notice("skip_slot", "the leader will skip a slot");
          else if (ok)
            out_.notice(what,
                        (action == operator_action::kill  ? "killed server "
                         : action == operator_action::wipe ? "wiped server "
                                                           : "restarted server ")
                          + std::to_string(target)
                          + (action == operator_action::wipe
                               ? " (its storage is gone; /restart rejoins it)"
                               : ""),
                        {{"server", std::to_string(target)}});
          else if (action == operator_action::wipe)
            out_.error("server " + std::to_string(target)
                       + " cannot be wiped (only with storage = memory)");
          else
            out_.error("server " + std::to_string(target)
                       + (action == operator_action::kill ? " is already down"
                                                          : " is already up"));
        },
        [&](caf::error& e) { out_.error(describe(e)); });
  }

  caf::actor_system& sys_;
  caf::actor lb_;
  shell_options opts_;
  printer& out_;
  std::shared_ptr<shell_listener> listener_;
  caf::scoped_actor self_;
  caf::actor client_;
};

// -- input loops -------------------------------------------------------------

int scripted_loop(shell& sh) {
  sh.await_connection(60);
  std::string line;
  while (!interrupted && std::getline(std::cin, line))
    if (!sh.handle(line))
      break;
  return sh.drain();
}

shell* active_shell = nullptr;
bool quit_requested = false;

extern "C" void on_readline(char* line) {
  if (line == nullptr) {
    quit_requested = true;
    return;
  }
  std::string s{line};
  if (!s.empty())
    add_history(line);
  std::free(line);
  if (!active_shell->handle(s))
    quit_requested = true;
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
  rl_callback_handler_remove();
  std::fputc('\n', stdout);
  if (!hist.empty()) {
    write_history(hist.c_str());
    history_truncate_file(hist.c_str(), 1000);
  }
  out.text("-- waiting for your messages to be delivered ...");
  print_above_prompt(out);
  auto rc = sh.drain();
  auto rest = out.take();
  for (auto& l : rest)
    std::puts(l.c_str());
  return rc;
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
                                              wake[1]);
  auto& out = *shared_out;
  auto listener = std::make_shared<shell_listener>(shared_out);
  int rc;
  {
    shell sh{sys, load_balancer, opts, out, listener};
    rc = opts.interactive ? interactive_loop(sh, out, wake[0], opts.name + "> ")
                          : scripted_loop(sh);
  }
  signal_wake_fd = -1;
  ::close(wake[0]);
  ::close(wake[1]);
  return rc;
}

} // namespace cafchat
