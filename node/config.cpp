#include "node/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace cafchat {

namespace {

struct entry {
  std::string value;
  int line = 0;
  bool used = false;
};

struct section {
  int line = 0;
  std::map<std::string, entry> keys;
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// A tiny strict INI reader: [section], key = value, ; or # comments
/// (whole-line, or after whitespace), "quoted values".
class ini {
public:
  ini(const std::string& text, std::string name) : name_(std::move(name)) {
    std::istringstream in{text};
    std::string raw;
    int lineno = 0;
    section* current = nullptr;
    while (std::getline(in, raw)) {
      ++lineno;
      auto line = trim(raw);
      if (line.empty() || line[0] == ';' || line[0] == '#')
        continue;
      if (line.back() == '{' || line[0] == '}')
        fail(lineno, "brace syntax is not supported; write [section] and "
                     "key = value lines");
      if (line[0] == '[') {
        if (line.back() != ']')
          fail(lineno, "a section header must end with ']'");
        auto sec = trim(line.substr(1, line.size() - 2));
        if (sec.empty())
          fail(lineno, "empty section name");
        if (sections_.count(sec) > 0)
          fail(lineno, "section [" + sec + "] appears twice (first on line "
                         + std::to_string(sections_[sec].line) + ")");
        current = &sections_[sec];
        current->line = lineno;
        continue;
      }
      auto eq = line.find('=');
      if (eq == std::string::npos)
        fail(lineno, "expected 'key = value', got '" + line + "'");
      auto key = trim(line.substr(0, eq));
      auto val = strip_comment(trim(line.substr(eq + 1)), lineno);
      if (key.empty())
        fail(lineno, "a line starts with '=' (missing key)");
      if (current == nullptr)
        fail(lineno, "key '" + key + "' is outside any [section]");
      if (current->keys.count(key) > 0)
        fail(lineno, "key '" + key + "' appears twice (first on line "
                       + std::to_string(current->keys[key].line) + ")");
      current->keys[key] = entry{val, lineno, false};
    }
  }

  [[noreturn]] void fail(int line, const std::string& what) const {
    throw config_error(name_ + ":" + std::to_string(line) + ": " + what);
  }

  [[noreturn]] void fail_key(const std::string& sec, const std::string& key,
                             const std::string& what) const {
    auto e = find(sec, key);
    throw config_error(name_ + ":" + std::to_string(e ? e->line : 0) + ": ["
                       + sec + "] " + key + ": " + what);
  }

  [[noreturn]] void fail_plain(const std::string& what) const {
    throw config_error(name_ + ": " + what);
  }

  bool has_section(const std::string& sec) const {
    return sections_.count(sec) > 0;
  }

  const entry* find(const std::string& sec, const std::string& key) const {
    auto s = sections_.find(sec);
    if (s == sections_.end())
      return nullptr;
    auto k = s->second.keys.find(key);
    return k == s->second.keys.end() ? nullptr : &k->second;
  }

  /// The raw value, marking the key as known; nullptr if absent.
  const std::string* get(const std::string& sec, const std::string& key) {
    auto s = sections_.find(sec);
    if (s == sections_.end())
      return nullptr;
    auto k = s->second.keys.find(key);
    if (k == s->second.keys.end())
      return nullptr;
    k->second.used = true;
    if (k->second.value.empty())
      fail(k->second.line, "[" + sec + "] " + key
                             + ": missing value (delete the line to use the "
                               "default)");
    return &k->second.value;
  }

  uint64_t get_uint(const std::string& sec, const std::string& key,
                    uint64_t def, uint64_t min, uint64_t max) {
    auto v = get(sec, key);
    if (v == nullptr)
      return def;
    if (!v->empty() && (*v)[0] == '-')
      fail_key(sec, key, "must be >= " + std::to_string(min) + ", got " + *v);
    errno = 0;
    char* end = nullptr;
    auto n = std::strtoull(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0' || errno == ERANGE)
      fail_key(sec, key, "expected a whole number, got '" + *v + "'");
    if (n < min || n > max)
      fail_key(sec, key, "must be between " + std::to_string(min) + " and "
                           + std::to_string(max) + ", got " + *v);
    return n;
  }

  double get_double(const std::string& sec, const std::string& key, double def,
                    double min, double max) {
    auto v = get(sec, key);
    if (v == nullptr)
      return def;
    char* end = nullptr;
    auto d = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0' || !std::isfinite(d))
      fail_key(sec, key, "expected a number, got '" + *v + "'");
    if (d < min || d > max)
      fail_key(sec, key, "must be between " + fmt(min) + " and " + fmt(max)
                           + ", got " + *v);
    return d;
  }

  bool get_bool(const std::string& sec, const std::string& key, bool def) {
    auto v = get(sec, key);
    if (v == nullptr)
      return def;
    if (*v == "true" || *v == "yes" || *v == "on" || *v == "1")
      return true;
    if (*v == "false" || *v == "no" || *v == "off" || *v == "0")
      return false;
    fail_key(sec, key, "expected true or false, got '" + *v + "'");
  }

  std::string get_string(const std::string& sec, const std::string& key,
                         const std::string& def) {
    auto v = get(sec, key);
    return v == nullptr ? def : *v;
  }

  std::string get_enum(const std::string& sec, const std::string& key,
                       const std::string& def,
                       const std::vector<std::string>& allowed) {
    auto v = get_string(sec, key, def);
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (auto& a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      fail_key(sec, key, "expected one of " + list + ", got '" + v + "'");
    }
    return v;
  }

  /// Every key of a free-form section, marked known.
  std::vector<std::pair<std::string, const entry*>> all(const std::string& sec) {
    std::vector<std::pair<std::string, const entry*>> xs;
    auto s = sections_.find(sec);
    if (s == sections_.end())
      return xs;
    for (auto& [k, e] : s->second.keys) {
      e.used = true;
      if (e.value.empty())
        fail(e.line, "[" + sec + "] " + k + ": missing value");
      xs.emplace_back(k, &e);
    }
    return xs;
  }

  /// Fails on the first section or key nobody asked for (a typo).
  void reject_unknown(const std::set<std::string>& known_sections) const {
    for (auto& [name, sec] : sections_) {
      if (known_sections.count(name) == 0) {
        std::string list;
        for (auto& k : known_sections)
          list += (list.empty() ? "[" : ", [") + k + "]";
        fail(sec.line, "unknown section [" + name + "] (known: " + list + ")");
      }
      for (auto& [key, e] : sec.keys)
        if (!e.used)
          fail(e.line, "unknown key '" + key + "' in [" + name + "]");
    }
  }

  const std::string& name() const { return name_; }

private:
  static std::string fmt(double d) {
    std::ostringstream os;
    os << d;
    return os.str();
  }

  std::string strip_comment(const std::string& v, int lineno) const {
    if (!v.empty() && v[0] == '"') {
      auto close = v.find('"', 1);
      if (close == std::string::npos)
        fail(lineno, "unterminated quoted value");
      auto rest = trim(v.substr(close + 1));
      if (!rest.empty() && rest[0] != ';' && rest[0] != '#')
        fail(lineno, "text after a quoted value");
      return v.substr(1, close - 1);
    }
    for (size_t i = 1; i < v.size(); ++i)
      if ((v[i] == ';' || v[i] == '#') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
        return trim(v.substr(0, i));
    if (!v.empty() && (v[0] == ';' || v[0] == '#'))
      return {};
    return v;
  }

  std::string name_;
  std::map<std::string, section> sections_;
};

uint32_t ticks(uint32_t ms, uint32_t tick_ms) {
  return std::max<uint32_t>(1, (ms + tick_ms - 1) / tick_ms);
}

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 10
         && std::all_of(s.begin(), s.end(),
                        [](char c) { return c >= '0' && c <= '9'; });
}

void read_nodes(ini& f, node_config& c) {
  std::set<std::string> endpoints;
  for (auto& [id, e] : f.all("nodes")) {
    if (id != "lb" && (!is_number(id) || std::stoul(id) == 0))
      f.fail(e->line, "[nodes] " + id
                        + ": a node id is a server number (1, 2, ...) or lb");
    auto colon = e->value.rfind(':');
    if (colon == std::string::npos || colon == 0)
      f.fail(e->line, "[nodes] " + id + ": expected host:port, got '"
                        + e->value + "'");
    node_endpoint ep{id, e->value.substr(0, colon), 0};
    auto port = e->value.substr(colon + 1);
    if (!is_number(port) || std::stoul(port) == 0 || std::stoul(port) > 65535)
      f.fail(e->line, "[nodes] " + id + ": port must be 1-65535, got '" + port
                        + "'");
    ep.port = static_cast<uint16_t>(std::stoul(port));
    if (!endpoints.insert(e->value).second)
      f.fail(e->line, "[nodes] " + id + ": " + e->value
                        + " is already used by another node");
    c.nodes[id] = ep;
  }
  if (c.nodes.empty())
    return;
  if (c.nodes.count("lb") == 0)
    f.fail_plain("[nodes] has no 'lb' entry (the load balancer)");
  c.servers.clear();
  for (auto& [id, ep] : c.nodes)
    if (id != "lb")
      c.servers.push_back(static_cast<server_id>(std::stoul(id)));
  std::sort(c.servers.begin(), c.servers.end());
  if (c.servers.empty())
    f.fail_plain("[nodes] lists no server");
}

} // namespace

std::string node_config::expand(const std::string& pattern,
                                const std::string& id) {
  auto s = pattern;
  for (size_t i = s.find("{id}"); i != std::string::npos;
       i = s.find("{id}", i + id.size()))
    s.replace(i, 4, id);
  return s;
}

node_config parse_config(const std::string& text, const std::string& name) {
  ini f{text, name};
  node_config c;
  c.path = name;

  // [nodes] first: it decides the server ids.
  read_nodes(f, c);

  // [cluster]
  auto f_given = f.find("cluster", "f") != nullptr;
  if (!c.distributed() && !f_given)
    f.fail_plain("[cluster] f is missing (failures to tolerate; the cluster "
                 "runs 2f+1 servers)");
  if (auto v = f.find("cluster", "f"); v && !v->value.empty()
                                        && v->value[0] == '-')
    f.fail_key("cluster", "f", "must be >= 0 (failures to tolerate), got "
                                 + v->value);
  c.f = static_cast<uint32_t>(f.get_uint("cluster", "f", 1, 0, 7));
  if (c.distributed()) {
    auto n = c.servers.size();
    if (n % 2 == 0)
      f.fail_plain("[nodes] lists " + std::to_string(n)
                   + " servers; a cluster needs an odd number (2f+1)");
    if (f_given && 2 * c.f + 1 != n)
      f.fail_key("cluster", "f", "is " + std::to_string(c.f) + " but [nodes] "
                                   "lists " + std::to_string(n) + " servers");
    c.f = static_cast<uint32_t>((n - 1) / 2);
  } else {
    for (server_id id = 1; id <= 2 * c.f + 1; ++id)
      c.servers.push_back(id);
  }
  auto& p = c.params;
  p.servers = c.servers;
  p.max_text_bytes = static_cast<uint32_t>(
    f.get_uint("cluster", "max_text_bytes", 4096, 1, 1 << 20));
  c.storage = f.get_enum("cluster", "storage", "memory", {"memory", "lmdb"});
  c.data_dir = f.get_string("cluster", "data_dir", c.data_dir);

  // [paxos]
  p.tick_ms = static_cast<uint32_t>(f.get_uint("paxos", "tick_ms", 10, 1, 1000));
  c.heartbeat_ms = static_cast<uint32_t>(
    f.get_uint("paxos", "heartbeat_ms", 50, 1, 60000));
  c.election_timeout_ms = static_cast<uint32_t>(
    f.get_uint("paxos", "election_timeout_ms", 500, 1, 600000));
  c.retry_ms = static_cast<uint32_t>(
    f.get_uint("paxos", "retry_ms", 100, 1, 600000));
  c.catchup_ms = static_cast<uint32_t>(
    f.get_uint("paxos", "catchup_ms", 100, 1, 600000));
  auto timeout_max_ms = static_cast<uint32_t>(
    f.get_uint("paxos", "timeout_max_ms", 600000, 1000, 3600000));
  if (c.heartbeat_ms < p.tick_ms)
    f.fail_key("paxos", "heartbeat_ms",
               "(" + std::to_string(c.heartbeat_ms)
                 + ") is shorter than tick_ms (" + std::to_string(p.tick_ms)
                 + ")");
  if (c.heartbeat_ms >= c.election_timeout_ms)
    f.fail_key("paxos", f.find("paxos", "heartbeat_ms") ? "heartbeat_ms"
                                                        : "election_timeout_ms",
               "heartbeat_ms (" + std::to_string(c.heartbeat_ms)
                 + ") must be shorter than election_timeout_ms ("
                 + std::to_string(c.election_timeout_ms)
                 + "), or followers elect a new leader between heartbeats");
  if (c.retry_ms < p.tick_ms)
    f.fail_key("paxos", "retry_ms", "is shorter than tick_ms");
  p.proposer.heartbeat_ticks = ticks(c.heartbeat_ms, p.tick_ms);
  p.proposer.election_ticks = ticks(c.election_timeout_ms, p.tick_ms);
  p.set_retry_ticks(ticks(c.retry_ms, p.tick_ms));
  p.learner.catchup_ticks = ticks(c.catchup_ms, p.tick_ms);
  p.set_timeout_max_ticks(ticks(timeout_max_ms, p.tick_ms));
  for (auto [key, floor] : {std::pair{"election_timeout_ms", c.election_timeout_ms},
                            std::pair{"retry_ms", c.retry_ms},
                            std::pair{"catchup_ms", c.catchup_ms}})
    if (floor > timeout_max_ms)
      f.fail_key("paxos", key,
                 "(" + std::to_string(floor) + ") is above timeout_max_ms ("
                   + std::to_string(timeout_max_ms) + ")");
  p.proposer.window = static_cast<uint32_t>(f.get_uint("paxos", "window", 64, 1, 100000));
  p.proposer.batch_max = static_cast<uint32_t>(
    f.get_uint("paxos", "batch_max", 256, 1, 100000));
  p.proposer.batch_bytes_max = static_cast<uint32_t>(
    f.get_uint("paxos", "batch_bytes_max", 1 << 20, 1024, 64u << 20));
  p.proposer.pending_max = static_cast<uint32_t>(
    f.get_uint("paxos", "pending_max", 100000, 1, 10000000));
  p.learner.catchup_max_slots = static_cast<uint32_t>(
    f.get_uint("paxos", "catchup_max_slots", 256, 1, 100000));
  p.set_buffer_max(static_cast<uint32_t>(
    f.get_uint("paxos", "buffer_max", 4096, 1, 1000000)));
  if (p.learner.buffer_max < p.proposer.window)
    f.fail_key("paxos", f.find("paxos", "buffer_max") ? "buffer_max" : "window",
               "buffer_max (" + std::to_string(p.learner.buffer_max)
                 + ") must be at least window (" + std::to_string(p.proposer.window)
                 + "): a leader decides up to window slots past a hole, and "
                   "learners must hold them");
  p.history_chunk = static_cast<uint32_t>(
    f.get_uint("paxos", "history_chunk", 512, 1, 100000));
  p.proposer.prevote = f.get_bool("paxos", "prevote", true);
  p.acceptor.learn_votes = f.get_enum("paxos", "learn", "decide", {"decide", "votes"})
                  == "votes";
  p.set_check_invariants(f.get_bool("paxos", "check_invariants", false));
  p.proposer.seed = f.get_uint("paxos", "seed", 1, 0, UINT64_MAX);

  // [client]
  c.client_retry_ms = static_cast<uint32_t>(
    f.get_uint("client", "retry_ms", 1000, 10, 600000));
  c.client_connect_timeout_ms = static_cast<uint32_t>(
    f.get_uint("client", "connect_timeout_ms", 2000, 10, 600000));
  c.client_retry_max_ms = static_cast<uint32_t>(
    f.get_uint("client", "retry_max_ms", 600000, 10, 3600000));
  if (c.client_retry_max_ms < c.client_retry_ms)
    f.fail_key("client", "retry_max_ms", "is below retry_ms");

  // [simulator]
  auto& s = c.sim;
  s.enabled = f.get_bool("simulator", "enabled", false);
  s.seed = f.get_uint("simulator", "seed", 1, 0, UINT64_MAX);
  s.delay_min_ms = static_cast<uint32_t>(
    f.get_uint("simulator", "delay_min_ms", 1, 0, 3600000));
  s.delay_max_ms = static_cast<uint32_t>(
    f.get_uint("simulator", "delay_max_ms", 5, 0, 3600000));
  s.drop_probability = f.get_double("simulator", "drop_probability", 0, 0, 1);
  s.duplicate_probability = f.get_double("simulator", "duplicate_probability",
                                         0, 0, 1);
  s.omission = f.get_bool("simulator", "omission", false);
  s.rotation_min_ms = static_cast<uint32_t>(
    1000 * f.get_uint("simulator", "rotation_min_s", 180, 1, 86400));
  s.rotation_max_ms = static_cast<uint32_t>(
    1000 * f.get_uint("simulator", "rotation_max_s", 300, 1, 86400));
  if (s.delay_min_ms > s.delay_max_ms)
    f.fail_key("simulator", "delay_min_ms",
               "(" + std::to_string(s.delay_min_ms)
                 + ") is above delay_max_ms ("
                 + std::to_string(s.delay_max_ms) + ")");
  if (s.rotation_min_ms > s.rotation_max_ms)
    f.fail_key("simulator", "rotation_min_s", "is above rotation_max_s");

  // [faults]: per-server rules of the simulator
  for (auto& [id, e] : f.all("faults")) {
    if (!is_number(id)
        || std::find(c.servers.begin(), c.servers.end(),
                     static_cast<server_id>(std::stoul(id)))
             == c.servers.end())
      f.fail(e->line, "[faults] " + id + ": no such server (servers are "
                        + [&] {
                            std::string l;
                            for (auto x : c.servers)
                              l += (l.empty() ? "" : ", ") + std::to_string(x);
                            return l;
                          }()
                        + ")");
    try {
      s.rules[static_cast<server_id>(std::stoul(id))] = parse_rule(e->value);
    } catch (std::invalid_argument& ex) {
      f.fail(e->line, std::string("[faults] ") + id + ": " + ex.what());
    }
  }
  if (!s.rules.empty() && !s.enabled)
    f.fail_plain("[faults] needs [simulator] enabled = true");

  // [log]
  c.events = f.get_string("log", "events", c.events);
  c.lb_events = f.get_string("log", "lb_events", c.lb_events);
  if (c.events == "none")
    c.events.clear();
  if (c.lb_events == "none")
    c.lb_events.clear();

  // [runtime]
  c.threads = static_cast<uint32_t>(f.get_uint("runtime", "threads", 2, 1, 64));
  c.scheduler = f.get_enum("runtime", "scheduler", "auto",
                           {"auto", "sharing", "stealing"});
  c.heartbeat_interval_ms = static_cast<uint32_t>(
    f.get_uint("runtime", "heartbeat_interval_ms", 200, 10, 60000));
  c.connection_timeout_ms = static_cast<uint32_t>(
    f.get_uint("runtime", "connection_timeout_ms", 2000, 20, 600000));
  c.network_workers = static_cast<uint32_t>(
    f.get_uint("runtime", "network_workers", 0, 0, 16));
  if (c.connection_timeout_ms <= c.heartbeat_interval_ms)
    f.fail_key("runtime", "connection_timeout_ms",
               "must be longer than heartbeat_interval_ms");

  // [web]
  auto& w = c.web;
  w.listen = f.get_string("web", "listen", "");
  if (!w.listen.empty()) {
    try {
      parse_web_endpoint(w.listen);
    } catch (std::invalid_argument& ex) {
      f.fail_key("web", "listen", ex.what());
    }
  }
  w.max_frame_bytes = static_cast<uint32_t>(
    f.get_uint("web", "max_frame_bytes", w.max_frame_bytes, 256, 16u << 20));
  w.max_message_bytes = static_cast<uint32_t>(
    f.get_uint("web", "max_message_bytes", w.max_message_bytes, 256, 64u << 20));
  w.max_connections = static_cast<uint32_t>(
    f.get_uint("web", "max_connections", w.max_connections, 1, 1000));
  w.rate_per_s = static_cast<uint32_t>(
    f.get_uint("web", "rate_per_s", w.rate_per_s, 1, 100000));
  if (w.max_message_bytes < w.max_frame_bytes)
    f.fail_key("web", "max_message_bytes",
               "must be at least max_frame_bytes (a message is one frame or "
               "more)");

  f.reject_unknown({"cluster", "paxos", "client", "simulator", "faults", "log",
                    "runtime", "web", "nodes"});
  return c;
}

node_config load_config(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw config_error(path + ": cannot read the configuration file ("
                       + std::string(std::strerror(errno)) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

} // namespace cafchat
