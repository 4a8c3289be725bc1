#include "actors/shell/shell.hpp"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <poll.h>
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

namespace {

// -- times -------------------------------------------------------------------

/// "09:15" in the local time zone.
std::string local_hhmm(uint64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M", &tm);
  return buf;
}

// -- output ------------------------------------------------------------------

/// All output goes through here: JSON lines or text, to stdout; in
/// interactive mode lines are queued and printed above the readline prompt by
/// the main loop, which a byte on `wake_fd` wakes up. Notices go to stderr
/// instead when stdout holds only the history (--history).
class printer {
public:
  printer(bool jsonl, bool interactive, int wake_fd, bool notices_to_stderr)
    : jsonl_(jsonl), interactive_(interactive), wake_fd_(wake_fd),
      notices_to_stderr_(notices_to_stderr) {}

  void entry(const chat_entry& e) { line(format(e)); }

  /// Several entries at once, in one write.
  void entries(const std::vector<chat_entry>& es) {
    std::vector<std::string> ls;
    ls.reserve(es.size());
    for (auto& e : es)
      ls.push_back(format(e));
    lines(std::move(ls));
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
      to_stdout_or_stderr(std::move(s));
    } else {
      to_stdout_or_stderr("-- " + text);
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

  /// Interactive mode is over (readline is gone): the queued lines and every
  /// later one go straight to stdout, with no prompt redrawn around them.
  void direct() {
    std::lock_guard<std::mutex> guard{mtx_};
    interactive_ = false;
    for (auto& s : queue_)
      write_line(s);
    queue_.clear();
    std::fflush(stdout);
  }

  bool jsonl() const { return jsonl_; }

private:
  std::string format(const chat_entry& e) const {
    if (jsonl_) {
      std::string s = "{\"index\":" + std::to_string(e.index)
                      + ",\"slot\":" + std::to_string(e.slot) + ",\"from\":\"";
      json_escape(s, e.from);
      s += "\",\"seq\":" + std::to_string(e.seq) + ",\"text\":\"";
      json_escape(s, e.text);
      s += "\",\"client\":" + std::to_string(e.client) + ",\"time\":\""
           + utc_iso8601(e.time_ms) + "\"}";
      return s;
    }
    return "[" + std::to_string(e.index) + "] " + local_hhmm(e.time_ms) + " "
           + e.from + ": " + e.text;
  }

  void to_stdout_or_stderr(std::string s) {
    if (!notices_to_stderr_) {
      line(std::move(s));
      return;
    }
    std::lock_guard<std::mutex> guard{mtx_};
    std::fprintf(stderr, "%s\n", s.c_str());
  }

  static void write_line(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
  }

  void line(std::string s) {
    std::vector<std::string> one;
    one.push_back(std::move(s));
    lines(std::move(one));
  }

  void lines(std::vector<std::string> ls) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!interactive_) {
      for (auto& s : ls)
        write_line(s);
      std::fflush(stdout);
      return;
    }
    for (auto& s : ls)
      queue_.push_back(std::move(s));
    char b = 1;
    if (::write(wake_fd_, &b, 1) < 0) {
      // A full pipe already guarantees a wake-up.
    }
  }

  bool jsonl_;
  bool interactive_;
  int wake_fd_;
  bool notices_to_stderr_;
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
    // Printed first, outside the lock: a stdout that blocks (a full pipe)
    // must not hold up /history or the progress meter.
    out_.entries(entries);
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& e : entries) {
      recent_.push_back(e);
      if (recent_.size() > recent_max)
        recent_.pop_front();
    }
    if (!entries.empty())
      dl_.upto = std::max(dl_.upto, entries.back().index);
  }

  void on_history(uint64_t upto, uint64_t size) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!dl_.sized) {
      dl_.sized = true;
      dl_.target = size;
    }
    dl_.known = std::max(dl_.known, size);
    dl_.upto = std::max(dl_.upto, upto);
  }

  /// How far the history has come in.
  struct download {
    bool sized = false;  ///< Joined: `target` is known.
    uint64_t target = 0; ///< Entries in the history when we joined.
    uint64_t known = 0;  ///< The most entries the server said it held.
    uint64_t upto = 0;   ///< Every entry up to here is in.
    bool complete() const { return sized && upto >= target; }
  };

  download downloaded() {
    std::lock_guard<std::mutex> guard{mtx_};
    return dl_;
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
  download dl_;
};

/// Shows a history download on stderr once it has taken a second: entries
/// received of entries known, and the rate. Runs in its own thread until
/// the download is complete or the shell ends.
class progress_meter {
public:
  progress_meter(std::shared_ptr<shell_listener> listener, uint64_t from)
    : listener_(std::move(listener)), base_(from - 1),
      thread_([this] { run(); }) {}

  ~progress_meter() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  void run() {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    bool shown = false;
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      bool stopping = cv_.wait_for(lock, std::chrono::milliseconds(250),
                                   [this] { return stop_; });
      auto d = listener_->downloaded();
      auto secs = std::chrono::duration<double>(clock::now() - start).count();
      auto got = d.upto > base_ ? d.upto - base_ : 0;
      if (d.complete() || stopping) {
        if (shown)
          std::fprintf(stderr, "\rhistory: %llu entries in %.1f s%s\x1b[K\n",
                       static_cast<unsigned long long>(got), secs,
                       d.complete() ? "" : ", incomplete");
        return;
      }
      if (secs < 1.0)
        continue;
      shown = true;
      auto known = std::max(d.known, d.target);
      std::fprintf(stderr, "\rhistory: %llu of %llu entries, %.0f/s\x1b[K",
                   static_cast<unsigned long long>(got),
                   static_cast<unsigned long long>(known > base_ ? known - base_
                                                                 : 0),
                   static_cast<double>(got) / secs);
    }
  }

  std::shared_ptr<shell_listener> listener_;
  uint64_t base_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_; ///< Last: it starts once the rest is ready.
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
    if (opts.dump_history)
      cc.resume_after = opts.history_from - 1;
    client_ = sys.spawn(client_actor, cc);
    if (opts.progress && (opts.wait_history || opts.dump_history))
      meter_.emplace(listener_, opts.dump_history ? opts.history_from : 1);
  }

  ~shell() {
    meter_.reset();
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

  /// Waits for every sent message to be acknowledged and, with `history`,
  /// for the history as it was when we joined; returns the exit code. The
  /// history may take long (it may be large): it fails only after the drain
  /// timeout without a new entry.
  int drain(bool history) {
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

  /// Whether anything we sent still waits for its acknowledgement.
  bool has_pending() { return !pending().empty(); }

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
                          "/skip-slot /faults ... /sync [s] /quit. In a "
                          "message line, index is its position in the one "
                          "history all clients share, time when the cluster "
                          "ordered it (UTC), from the sender's --name");
      return;
    }
    out_.text("Messages show as [index] HH:MM name: text. The index is the\n"
              "message's position in the one history all clients share: every\n"
              "client shows the same message under the same number. HH:MM is\n"
              "when the cluster ordered it (as it was sent), in your local time,\n"
              "the same moment at every client. The name is what the sender\n"
              "chose with --name NAME (default: the login name); names are\n"
              "not checked or unique. Yours is '" + opts_.name + "'.\n"
              "\n"
              "  <text>            send a chat message (//text sends '/text')\n"
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
  std::optional<progress_meter> meter_;
};

// -- input loops -------------------------------------------------------------

int scripted_loop(shell& sh, const shell_options& opts) {
  sh.await_connection(60);
  std::string line;
  while (!interrupted && std::getline(std::cin, line))
    if (!sh.handle(line))
      break;
  return sh.drain(opts.wait_history);
}

/// --history: no input; the history as it was when we joined, then exit.
int dump_loop(shell& sh) {
  sh.await_connection(60);
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
