#include "node/config_keys.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "node/config.hpp"

namespace cafchat {

namespace {

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

void not_negative_f(const std::string& v) {
  if (!v.empty() && v[0] == '-')
    throw std::invalid_argument("must be >= 0 (failures to tolerate), got " + v);
}

void web_endpoint_or_empty(const std::string& v) {
  if (!v.empty())
    parse_web_endpoint(v);
}

std::string none_is_empty(const std::string& v) {
  return v == "none" ? std::string{} : v;
}

// Rows in the order of configs/single-host.ini. A target either names its
// field or, for a value that is converted or that several roles follow,
// sets it (server_params' setters keep those roles in step).
const std::vector<config_key> keys = {
  // -- [cluster] --------------------------------------------------------------
  {"cluster", "f", nullptr, 0, 7, "",
   "Failures to tolerate. The cluster runs 2f+1 servers, ids 1..2f+1, and "
   "makes progress while a majority (f+1) of them is up. Required, unless "
   "[nodes] lists the servers (f then follows from them).",
   +[](node_config& c) { return &c.f; }, {}, not_negative_f},
  {"cluster", "max_text_bytes", "4096", 1, 1 << 20, "bytes",
   "Largest chat message, in bytes of UTF-8. Longer ones are refused.",
   +[](node_config& c) { return &c.params.max_text_bytes; }},
  {"cluster", "storage", "memory", 0, 0, "",
   "Where servers keep acceptor state and the decided log: memory (lives as "
   "long as this process; survives /kill and /restart of a server) or lmdb "
   "(on disk under data_dir; survives the process).",
   +[](node_config& c) { return &c.storage; }, {"memory", "lmdb"}},
  {"cluster", "data_dir", "data/server-{id}", 0, 0, "path",
   "Directory of each server's LMDB environment; {id} is the server id.",
   +[](node_config& c) { return &c.data_dir; }},
  // -- [paxos]: node_config::validate() turns milliseconds into ticks ---------
  {"paxos", "tick_ms", "10", 1, 1000, "ms",
   "One tick of every timer, in milliseconds. Timeouts below are rounded up "
   "to whole ticks.",
   +[](node_config& c) { return &c.params.tick_ms; }},
  {"paxos", "heartbeat_ms", "50", 1, 60000, "ms",
   "The leader's heartbeat period, in milliseconds (at least this; about "
   "half a round trip on a slow network). Must be shorter than "
   "election_timeout_ms.",
   +[](node_config& c) { return &c.heartbeat_ms; }},
  {"paxos", "election_timeout_ms", "500", 1, 600000, "ms",
   "A follower that hears no heartbeat for a random time between this and "
   "twice this (milliseconds) runs for leader; at least the leader's "
   "heartbeat period plus the gaps seen between its heartbeats.",
   +[](node_config& c) { return &c.election_timeout_ms; }},
  {"paxos", "retry_ms", "100", 1, 600000, "ms",
   "Phase timeout in milliseconds: unanswered accepts are sent again, and an "
   "unfinished phase 1 is retried with a higher ballot (at least this; a "
   "round trip to a majority, doubled per failed election). A rejoining "
   "acceptor probes its peers this often at first.",
   +[](node_config& c) { return &c.retry_ms; }},
  {"paxos", "catchup_ms", "100", 1, 600000, "ms",
   "A learner that knows it is missing decided slots for this long "
   "(milliseconds) asks a peer for them (at least this; a round trip to it).",
   +[](node_config& c) { return &c.catchup_ms; }},
  {"paxos", "timeout_max_ms", "600000", 1000, 3600000, "ms",
   "No timeout grows beyond this, however slow the network (milliseconds).",
   +[](node_config& c) { return &c.timeout_max_ms; }},
  {"paxos", "window", "64", 1, 100000, "slots",
   "Slots the leader proposes past the chosen prefix, at most: slots in "
   "flight, and how far decisions may run ahead of an undecided slot.",
   +[](node_config& c) { return &c.params.proposer.window; }},
  {"paxos", "batch_max", "256", 1, 100000, "commands",
   "Client commands per slot, at most (batching).",
   +[](node_config& c) { return &c.params.proposer.batch_max; }},
  {"paxos", "batch_bytes_max", "1048576", 1024, 64u << 20, "bytes",
   "Total bytes of the client commands in one slot, at most.",
   +[](node_config& c) { return &c.params.proposer.batch_bytes_max; }},
  {"paxos", "pending_max", "100000", 1, 10000000, "commands",
   "Commands a proposer queues while the window is full or no leader is "
   "known.",
   +[](node_config& c) { return &c.params.proposer.pending_max; }},
  {"paxos", "catchup_max_slots", "256", 1, 100000, "slots",
   "Decided slots per catch-up reply, at most.",
   +[](node_config& c) { return &c.params.learner.catchup_max_slots; }},
  {"paxos", "history_chunk", "512", 1, 100000, "entries",
   "History entries per chunk sent to a new client.",
   +[](node_config& c) { return &c.params.history_chunk; }},
  {"paxos", "buffer_max", "4096", 1, 1000000, "slots",
   "Chosen slots a learner holds above a slot it still misses; at least "
   "window. It also bounds how far a rejoining acceptor's learner may lag "
   "when the rejoin's phase 1 starts.",
   +[](node_config& c, uint64_t v) {
     c.params.set_buffer_max(static_cast<uint32_t>(v));
   }},
  {"paxos", "prevote", "true", 0, 0, "",
   "PreVote: a would-be leader first asks whether the others have lost the "
   "leader too, so a server that can send but not receive cannot force "
   "elections (true or false).",
   +[](node_config& c) { return &c.params.proposer.prevote; }},
  {"paxos", "learn", "decide", 0, 0, "",
   "How learners learn a chosen value: decide (the leader tells them; fewer "
   "messages) or votes (every acceptor tells every learner; one hop faster).",
   +[](node_config& c, const std::string& v) {
     c.params.acceptor.learn_votes = v == "votes";
   },
   {"decide", "votes"}},
  {"paxos", "check_invariants", "false", 0, 0, "",
   "Check protocol invariants after every message (slower; for testing).",
   +[](node_config& c, bool v) { c.params.set_check_invariants(v); }},
  {"paxos", "seed", "1", 0, u64_max, "",
   "Seed of the proposers' randomised timeouts.",
   +[](node_config& c) { return &c.params.proposer.seed; }},
  // -- [client] ---------------------------------------------------------------
  {"client", "retry_ms", "1000", 10, 600000, "ms",
   "A client resends its unacknowledged messages when they are not "
   "acknowledged within this many milliseconds, at least: the wait follows "
   "how long acknowledgements take, and doubles per resend that brought "
   "nothing, up to retry_max_ms.",
   +[](node_config& c) { return &c.client_retry_ms; }},
  {"client", "retry_max_ms", "600000", 10, 3600000, "ms",
   "The longest a client waits before it resends (milliseconds).",
   +[](node_config& c) { return &c.client_retry_max_ms; }},
  {"client", "connect_timeout_ms", "2000", 10, 600000, "ms",
   "Timeout of one attempt to reach the load balancer or a server, in ms.",
   +[](node_config& c) { return &c.client_connect_timeout_ms; }},
  // -- [limits] (docs/security.md) ------------------------------------------
  {"limits", "commands_per_submit", "256", 1, 100000, "commands",
   "Commands (chat messages) one submit of a client may carry; the excess "
   "is refused with a reason. Clients split what they send to fit.",
   +[](node_config& c) { return &c.params.limits.commands_per_submit; }},
  {"limits", "rate_per_s", "1000", 0, 10000000, "messages/s",
   "Messages a client may send per second (a token bucket; 0: no limit). "
   "More are refused with a reason; caf-chat keeps to the rate by itself.",
   +[](node_config& c) { return &c.params.limits.rate_per_s; }},
  {"limits", "rate_burst", "5000", 1, 10000000, "messages",
   "How many messages a client may send at once above the rate (the token "
   "bucket's size).",
   +[](node_config& c) { return &c.params.limits.rate_burst; }},
  {"limits", "queue_max_per_client", "10000", 0, 10000000, "commands",
   "Commands of one client a proposer queues, at most (0: no share); "
   "beyond it they wait at the client, so one client cannot fill "
   "pending_max for all.",
   +[](node_config& c) { return &c.params.proposer.client_max; }},
  {"limits", "sessions_per_server", "1024", 1, 1000000, "sessions",
   "Client sessions one server opens, at most; the load balancer takes "
   "this many clients per server.",
   +[](node_config& c) { return &c.params.limits.sessions_per_server; }},
  {"limits", "sessions_per_connection", "64", 1, 1000000, "sessions",
   "Client sessions one server opens for the clients of one other process "
   "(one CAF node, one connection), at most.",
   +[](node_config& c) { return &c.params.limits.sessions_per_connection; }},
  {"limits", "send_queue_max_bytes", "8388608", 65536, 1073741824, "bytes",
   "History bytes a server sends a client ahead of what the client "
   "confirmed it read, at most; a client that falls further behind is "
   "disconnected with a reason, and resumes from its last index when it "
   "reconnects. A history download pauses at a quarter of it.",
   +[](node_config& c) { return &c.params.limits.send_queue_max_bytes; }},
  {"limits", "connection_backlog_max_bytes", "67108864", 65536, 1ull << 40,
   "bytes",
   "Multi-process clusters only: bytes a process queues for one connection "
   "behind the write in progress, at most (CAF's own write buffer, below "
   "every session's send queue). A peer that does not read what it is sent "
   "(a client that confirms history it never took in, a frozen process) is "
   "disconnected with a \"refused\" event; a client reconnects and resumes "
   "from its last index. At least max_frame_bytes.",
   +[](node_config& c) { return &c.connection_backlog_max_bytes; }},
  // -- [simulator] ------------------------------------------------------------
  {"simulator", "enabled", "false", 0, 0, "",
   "The network-fault simulator sits between servers when enabled; "
   "otherwise they talk directly.",
   +[](node_config& c) { return &c.sim.enabled; }},
  {"simulator", "seed", "1", 0, u64_max, "",
   "Seed of every random choice the simulator makes.",
   +[](node_config& c) { return &c.sim.seed; }},
  {"simulator", "delay_min_ms", "1", 0, 3600000, "ms",
   "Each message between servers waits a random time, drawn uniformly from "
   "delay_min_ms to delay_max_ms, in milliseconds.",
   +[](node_config& c) { return &c.sim.delay_min_ms; }},
  {"simulator", "delay_max_ms", "5", 0, 3600000, "ms",
   "The longest such wait (milliseconds).",
   +[](node_config& c) { return &c.sim.delay_max_ms; }},
  {"simulator", "drop_probability", "0", 0, 1, "",
   "Each message between servers is lost with this probability.",
   +[](node_config& c) { return &c.sim.drop_probability; }},
  {"simulator", "duplicate_probability", "0", 0, 1, "",
   "Each message between servers is delivered twice with this probability.",
   +[](node_config& c) { return &c.sim.duplicate_probability; }},
  {"simulator", "omission", "false", 0, 0, "",
   "Rotate an omission fault: one server at a time loses everything it sends "
   "and receives; a new one is picked at random among the live servers every "
   "rotation_min_s to rotation_max_s seconds.",
   +[](node_config& c) { return &c.sim.omission; }},
  {"simulator", "rotation_min_s", "180", 1, 86400, "s",
   "The shortest time between two picks of the omission-faulty server "
   "(seconds).",
   +[](node_config& c, uint64_t s) {
     c.sim.rotation_min_ms = static_cast<uint32_t>(1000 * s);
   }},
  {"simulator", "rotation_max_s", "300", 1, 86400, "s",
   "The longest time between two picks (seconds).",
   +[](node_config& c, uint64_t s) {
     c.sim.rotation_max_ms = static_cast<uint32_t>(1000 * s);
   }},
  // -- [log] ------------------------------------------------------------------
  {"log", "events", "logs/server-{id}.jsonl", 0, 0, "path",
   "Each server's structured event log (JSON lines): proposals, promises, "
   "accepts, rejections, decisions, leader changes. {id} is the server id; "
   "\"none\" turns it off.",
   +[](node_config& c, const std::string& v) { c.events = none_is_empty(v); }},
  {"log", "lb_events", "logs/lb.jsonl", 0, 0, "path",
   "The load balancer's and the simulator's event log; \"none\" turns it "
   "off.",
   +[](node_config& c, const std::string& v) {
     c.lb_events = none_is_empty(v);
   }},
  // -- [runtime] --------------------------------------------------------------
  {"runtime", "threads", "2", 1, 64, "threads",
   "Scheduler worker threads (CAF starts 4 by default, even on 2 cores).",
   +[](node_config& c) { return &c.threads; }},
  {"runtime", "scheduler", "auto", 0, 0, "",
   "Scheduler policy: stealing (a queue per thread; best inside one "
   "process), sharing (one queue; a message wakes a thread at once, which "
   "halves a round trip between processes), or auto: sharing for a node of a "
   "multi-process cluster, stealing for a whole cluster in one process.",
   +[](node_config& c) { return &c.scheduler; },
   {"auto", "sharing", "stealing"}},
  {"runtime", "network_workers", "0", 0, 16, "threads",
   "Multi-process clusters only: threads that decode messages arriving from "
   "the network (CAF's middleman workers). 0 decodes on the network thread "
   "itself, which saves a thread handoff per message.",
   +[](node_config& c) { return &c.network_workers; }},
  {"runtime", "heartbeat_interval_ms", "200", 10, 60000, "ms",
   "Multi-process clusters only: the period of the heartbeats between nodes "
   "(milliseconds).",
   +[](node_config& c) { return &c.heartbeat_interval_ms; }},
  {"runtime", "connection_timeout_ms", "2000", 20, 600000, "ms",
   "Multi-process clusters only: the silence after which a node is declared "
   "dead (milliseconds); longer than heartbeat_interval_ms.",
   +[](node_config& c) { return &c.connection_timeout_ms; }},
  {"runtime", "max_frame_bytes", "16777216", 65536, 1u << 30, "bytes",
   "Multi-process clusters only: the largest message payload another "
   "process may announce (CAF's BASP frame), in bytes. A connection that "
   "announces a larger one is closed, with a \"refused\" event, before any "
   "buffer is sized from it. At least twice batch_bytes_max and twice a "
   "history chunk (history_chunk messages of max_text_bytes); catch-up "
   "replies are cut to half of it.",
   +[](node_config& c) { return &c.max_frame_bytes; }},
  // -- [tls] ------------------------------------------------------------------
  {"tls", "ca", "", 0, 0, "path",
   "Multi-process clusters only: the CA certificate (PEM) that signs every "
   "node, client and operator certificate (tools/gen-certs). Set, with "
   "certificate and key, every connection between processes is mutual TLS "
   "and every peer is authenticated by the principal its certificate names "
   "(docs/security.md); empty (the default): plaintext, unauthenticated, "
   "for loopback demos only.",
   +[](node_config& c) { return &c.tls_ca; }},
  {"tls", "certificate", "", 0, 0, "path",
   "This node's certificate (PEM); {id} is the node id (1, 2, ..., lb). "
   "caf-chat and caf-web take theirs from --cert.",
   +[](node_config& c) { return &c.tls_certificate; }},
  {"tls", "key", "", 0, 0, "path",
   "This node's private key (PEM, unencrypted, readable by its owner only); "
   "{id} is the node id. caf-chat and caf-web take theirs from --key.",
   +[](node_config& c) { return &c.tls_key; }},
  // -- [web] ------------------------------------------------------------------
  {"web", "listen", "", 0, 0, "ADDR:PORT",
   "The web console (docs/web.md): chat in a browser, the cluster and the "
   "protocol live, operator controls. ADDR:PORT to listen on, an IPv4 "
   "address (127.0.0.1: this machine only) and a port (0: any free port); "
   "empty (the default) serves nothing. caf-node --web ADDR:PORT overrides "
   "it, and tools/run passes --web 127.0.0.1:8080.",
   +[](node_config& c) { return &c.web.listen; }, {}, web_endpoint_or_empty},
  {"web", "max_frame_bytes", "16384", 256, 16u << 20, "bytes",
   "Largest WebSocket frame a browser may send, in bytes; a connection that "
   "sends a larger one is closed with a reason.",
   +[](node_config& c) { return &c.web.max_frame_bytes; }},
  {"web", "max_message_bytes", "65536", 256, 64u << 20, "bytes",
   "Largest message a browser may send (all its frames), in bytes; a "
   "connection that sends a larger one is closed with a reason.",
   +[](node_config& c) { return &c.web.max_message_bytes; }},
  {"web", "max_connections", "32", 1, 1000, "connections",
   "Open WebSocket connections, at most (each is one chat client).",
   +[](node_config& c) { return &c.web.max_connections; }},
  {"web", "rate_per_s", "50", 1, 100000, "messages/s",
   "Messages a connection may send per second; more are refused, and a "
   "connection that keeps sending twice as many is closed.",
   +[](node_config& c) { return &c.web.rate_per_s; }},
};

const std::vector<config_section> sections = {
  {"faults", "<server id>", "<rule>",
   "Per-server delay and drop rules (needs the simulator): p:, a: and c: "
   "delay the phase 1, phase 2 and decide messages on their way to the "
   "server by that long, d: drops every message to and from it, starting "
   "that long after the rule is set; in seconds (or 250ms), parts joined by "
   "'::'. Also settable at run time with /faults."},
  {"nodes", "<node id>", "<host>:<port>",
   "A cluster of one process per node: <node id> = <host>:<port>. Server ids "
   "are numbers; 'lb' is the load balancer. The number of servers must be "
   "odd (2f+1); f follows from it. Without [nodes], the whole cluster runs "
   "in one process."},
};

// -- converting values --------------------------------------------------------

uint64_t to_whole(const config_key& k, const std::string& v) {
  if (!v.empty() && v[0] == '-')
    throw std::invalid_argument("must be >= " + std::to_string(k.min)
                                + ", got " + v);
  errno = 0;
  char* end = nullptr;
  auto n = std::strtoull(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0' || errno == ERANGE)
    throw std::invalid_argument("expected a whole number, got '" + v + "'");
  if (n < k.min || n > k.max)
    throw std::invalid_argument("must be between " + std::to_string(k.min)
                                + " and " + std::to_string(k.max) + ", got "
                                + v);
  return n;
}

std::string fmt(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

double to_number(const config_key& k, const std::string& v) {
  char* end = nullptr;
  auto d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !std::isfinite(d))
    throw std::invalid_argument("expected a number, got '" + v + "'");
  auto lo = static_cast<double>(k.min);
  auto hi = static_cast<double>(k.max);
  if (d < lo || d > hi)
    throw std::invalid_argument("must be between " + fmt(lo) + " and "
                                + fmt(hi) + ", got " + v);
  return d;
}

bool to_flag(const std::string& v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1")
    return true;
  if (v == "false" || v == "no" || v == "off" || v == "0")
    return false;
  throw std::invalid_argument("expected true or false, got '" + v + "'");
}

std::string to_text(const config_key& k, const std::string& v) {
  if (k.choices.empty())
    return v;
  std::string list;
  for (auto c : k.choices) {
    if (v == c)
      return v;
    list += (list.empty() ? "" : ", ") + std::string{c};
  }
  throw std::invalid_argument("expected one of " + list + ", got '" + v + "'");
}

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

} // namespace

void config_key::apply(const std::string& text, node_config& c) const {
  if (check != nullptr)
    check(text);
  std::visit(
    overloaded{
      [&](uint32_t* (*t)(node_config&)) {
        *t(c) = static_cast<uint32_t>(to_whole(*this, text));
      },
      [&](uint64_t* (*t)(node_config&)) { *t(c) = to_whole(*this, text); },
      [&](void (*t)(node_config&, uint64_t)) { t(c, to_whole(*this, text)); },
      [&](double* (*t)(node_config&)) { *t(c) = to_number(*this, text); },
      [&](bool* (*t)(node_config&)) { *t(c) = to_flag(text); },
      [&](void (*t)(node_config&, bool)) { t(c, to_flag(text)); },
      [&](std::string* (*t)(node_config&)) { *t(c) = to_text(*this, text); },
      [&](void (*t)(node_config&, const std::string&)) {
        t(c, to_text(*this, text));
      },
    },
    target);
}

std::string config_key::values() const {
  if (!choices.empty()) {
    std::string s;
    for (size_t i = 0; i < choices.size(); ++i)
      s += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ")
           + std::string{choices[i]};
    return s;
  }
  auto range = [&] {
    auto s = std::to_string(min) + " to " + std::to_string(max);
    return *unit ? s + " " + unit : s;
  };
  return std::visit(
    overloaded{
      [&](uint32_t* (*)(node_config&)) { return range(); },
      [&](uint64_t* (*)(node_config&)) { return range(); },
      [&](void (*)(node_config&, uint64_t)) { return range(); },
      [&](double* (*)(node_config&)) { return range(); },
      [&](bool* (*)(node_config&)) { return std::string{"true or false"}; },
      [&](void (*)(node_config&, bool)) { return std::string{"true or false"}; },
      [&](std::string* (*)(node_config&)) {
        return std::string{*unit ? unit : "text"};
      },
      [&](void (*)(node_config&, const std::string&)) {
        return std::string{*unit ? unit : "text"};
      },
    },
    target);
}

const std::vector<config_key>& config_keys() {
  return keys;
}

const std::vector<config_section>& config_sections() {
  return sections;
}

std::string config_keys_markdown() {
  std::string md = "| key | default | values | meaning |\n"
                   "| --- | --- | --- | --- |\n";
  for (auto& k : keys) {
    std::string def = k.default_value == nullptr ? "required"
                      : *k.default_value == '\0'
                        ? "(empty)"
                        : "`" + std::string{k.default_value} + "`";
    md += "| `[" + std::string{k.section} + "] " + k.key + "` | " + def
          + " | " + k.values() + " | " + k.help + " |\n";
  }
  for (auto& s : sections)
    md += "| `[" + std::string{s.name} + "] " + s.key + "` | | `" + s.value
          + "` | " + s.help + " |\n";
  return md;
}

std::string with_config_keys(const std::string& doc) {
  auto begin = doc.find("<!-- config keys: begin");
  auto end = doc.find("<!-- config keys: end -->");
  if (begin == std::string::npos || end == std::string::npos || end < begin)
    throw std::invalid_argument("no '<!-- config keys: begin ... -->' and "
                                "'<!-- config keys: end -->' lines");
  auto body = doc.find('\n', begin);
  if (body == std::string::npos || body >= end)
    throw std::invalid_argument("the begin marker must be a line of its own");
  return doc.substr(0, body + 1) + config_keys_markdown() + doc.substr(end);
}

} // namespace cafchat
