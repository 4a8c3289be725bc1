#include "actors/shell/shell_session.hpp"

#include <chrono>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "actors/shell/input_line.hpp"
#include "actors/simulator/faults_command.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

// The shell's commands: /help, /who, /status, /history, the operator's
// /kill, /restart, /wipe and /skip-slot, and /faults.

namespace cafchat::shell_detail {

bool shell::run_command(const std::string& cmd,
                        const std::vector<std::string>& args) {
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

void shell::help() {
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

bool shell::fetch_view(cluster_view& view) {
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

void shell::who() {
  cluster_view v;
  if (!fetch_view(v))
    return;
  if (out_.jsonl()) {
    auto clients = ordered_json::array();
    for (auto& c : v.clients)
      clients.push_back(
        {{"client", c.client}, {"name", c.name}, {"server", c.server}});
    out_.json({{"event", "who"}, {"clients", std::move(clients)}});
    return;
  }
  std::string s = std::to_string(v.clients.size()) + " client(s):";
  for (auto& c : v.clients)
    s += "\n  " + c.name + " (client " + std::to_string(c.client % 100000)
         + ") on server " + std::to_string(c.server);
  out_.text(s);
}

void shell::status() {
  cluster_view v;
  if (!fetch_view(v))
    return;
  if (out_.jsonl()) {
    auto servers = ordered_json::array();
    for (auto& x : v.servers)
      servers.push_back({{"id", x.id},
                         {"alive", x.alive},
                         {"role", to_string(x.role)},
                         {"ballot", x.bal},
                         {"leader", x.leader},
                         {"chosen_upto", x.chosen_upto},
                         {"delivered_upto", x.delivered_upto},
                         {"history", x.history_size},
                         {"clients", x.sessions},
                         {"acceptor", to_string(x.acceptor)},
                         {"waiting", x.waiting},
                         {"timeout_ms", x.timeout_ms},
                         {"peers", x.peers}});
    out_.json({{"event", "status"},
               {"ready", v.ready},
               {"servers", std::move(servers)}});
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

void shell::history(const std::vector<std::string>& args) {
  size_t n = 20;
  if (!args.empty()) {
    auto v = parse_count_arg(args[0], 1, UINT32_MAX);
    if (args.size() != 1 || !v) {
      out_.error("usage: /history [n], n a positive number");
      return;
    }
    n = static_cast<size_t>(*v);
  }
  auto entries = listener_->recent(n);
  if (out_.jsonl())
    out_.json({{"event", "history"}, {"count", entries.size()}});
  for (auto& e : entries)
    out_.entry(e);
}

void shell::operate(operator_action action,
                    const std::vector<std::string>& args,
                    const std::string& cmd) {
  server_id target = 0;
  if (action != operator_action::skip_slot) {
    // A server id is 32 bits: 4294967297 is refused, not cut to 1.
    auto v = args.size() == 1
               ? parse_count_arg(args[0], 1, std::numeric_limits<server_id>::max())
               : std::nullopt;
    if (!v) {
      out_.error("usage: " + cmd + " <server id>");
      return;
    }
    target = static_cast<server_id>(*v);
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
                      {{"server", target}});
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

void shell::faults(const std::vector<std::string>& args) {
  auto ctl = parse_faults_command(args);
  if (!ctl) {
    out_.error(describe(ctl.error()));
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
  self_->request(sim, std::chrono::seconds(5), *ctl)
    .receive(
      [&](const sim_report& r) {
        out_.notice("faults", "faults: " + r.summary,
                    {{"faulty", r.faulty},
                     {"dropped", r.dropped},
                     {"forwarded", r.forwarded}});
      },
      [&](caf::error& e) { out_.error(describe(e)); });
}

} // namespace cafchat::shell_detail
