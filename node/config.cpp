#include "node/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "node/config_keys.hpp"
#include "node/ini.hpp"

namespace cafchat {

namespace {

/// Milliseconds in whole ticks, rounded up.
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

/// [cluster] f, or the servers [nodes] lists: which servers there are.
void resolve_servers(ini& f, node_config& c) {
  auto f_given = f.find("cluster", "f") != nullptr;
  if (!c.distributed()) {
    for (server_id id = 1; id <= 2 * c.f + 1; ++id)
      c.servers.push_back(id);
    return;
  }
  auto n = c.servers.size();
  if (n % 2 == 0)
    f.fail_plain("[nodes] lists " + std::to_string(n)
                 + " servers; a cluster needs an odd number (2f+1)");
  if (f_given && 2 * c.f + 1 != n)
    f.fail_key("cluster", "f", "is " + std::to_string(c.f) + " but [nodes] "
                                 "lists " + std::to_string(n) + " servers");
  c.f = static_cast<uint32_t>((n - 1) / 2);
}

/// [faults]: per-server rules of the simulator.
void read_faults(ini& f, node_config& c) {
  for (auto& [id, e] : f.all("faults")) {
    if (!is_number(id)
        || std::find(c.servers.begin(), c.servers.end(),
                     static_cast<server_id>(std::stoul(id)))
             == c.servers.end()) {
      std::string list;
      for (auto x : c.servers)
        list += (list.empty() ? "" : ", ") + std::to_string(x);
      f.fail(e->line, "[faults] " + id + ": no such server (servers are "
                        + list + ")");
    }
    try {
      c.sim.rules[static_cast<server_id>(std::stoul(id))] = parse_rule(e->value);
    } catch (std::invalid_argument& ex) {
      f.fail(e->line, std::string("[faults] ") + id + ": " + ex.what());
    }
  }
}

[[noreturn]] void fail(const char* section, std::vector<std::string> keys,
                       const std::string& reason) {
  throw config_key_error(section, std::move(keys), reason);
}

std::string num(uint64_t n) {
  return std::to_string(n);
}

} // namespace

config_key_error::config_key_error(std::string sec, std::vector<std::string> ks,
                                   const std::string& why)
  : config_error(ks.empty() ? why : "[" + sec + "] " + ks.front() + ": " + why),
    section(std::move(sec)),
    keys(std::move(ks)),
    reason(why) {
}

std::string node_config::expand(const std::string& pattern,
                                const std::string& id) {
  auto s = pattern;
  for (size_t i = s.find("{id}"); i != std::string::npos;
       i = s.find("{id}", i + id.size()))
    s.replace(i, 4, id);
  return s;
}

void node_config::validate() {
  auto& p = params;
  // [tls]: all of it or none of it.
  if (tls_ca.empty() != tls_certificate.empty()
      || tls_ca.empty() != tls_key.empty())
    fail("tls", {"ca", "certificate", "key"},
         "ca, certificate and key go together: set all three (mutual TLS) "
         "or none (plaintext)");
  // [runtime] max_frame_bytes: every legitimate message fits.
  if (uint64_t{max_frame_bytes} < 2 * uint64_t{p.proposer.batch_bytes_max} + 65536)
    fail("runtime", {"max_frame_bytes", "batch_bytes_max"},
         "max_frame_bytes (" + num(max_frame_bytes)
           + ") must be at least twice batch_bytes_max plus 64 KiB ("
           + num(2 * uint64_t{p.proposer.batch_bytes_max} + 65536)
           + "): a slot's value crosses the network in one message");
  if (uint64_t{max_frame_bytes}
      < 2 * uint64_t{p.history_chunk} * (uint64_t{p.max_text_bytes} + 256))
    fail("runtime", {"max_frame_bytes", "history_chunk", "max_text_bytes"},
         "max_frame_bytes (" + num(max_frame_bytes)
           + ") must hold twice a history chunk (history_chunk x "
             "(max_text_bytes + 256) bytes)");
  p.learner.catchup_bytes_max = max_frame_bytes / 2;
  // [limits] connection_backlog_max_bytes: a peer that reads may still be a
  // frame behind.
  if (connection_backlog_max_bytes < uint64_t{max_frame_bytes})
    fail("limits", {"connection_backlog_max_bytes", "max_frame_bytes"},
         "connection_backlog_max_bytes (" + num(connection_backlog_max_bytes)
           + ") must be at least max_frame_bytes (" + num(max_frame_bytes)
           + "): a peer that reads can be one message behind");
  // [paxos]: each timeout is at least a tick, followers hear from a leader
  // before they give up on it, and none starts above the ceiling.
  if (heartbeat_ms < p.tick_ms)
    fail("paxos", {"heartbeat_ms"},
         "(" + num(heartbeat_ms) + ") is shorter than tick_ms ("
           + num(p.tick_ms) + ")");
  if (heartbeat_ms >= election_timeout_ms)
    fail("paxos", {"heartbeat_ms", "election_timeout_ms"},
         "heartbeat_ms (" + num(heartbeat_ms)
           + ") must be shorter than election_timeout_ms ("
           + num(election_timeout_ms)
           + "), or followers elect a new leader between heartbeats");
  if (retry_ms < p.tick_ms)
    fail("paxos", {"retry_ms"}, "is shorter than tick_ms");
  for (auto [key, floor] : {std::pair{"election_timeout_ms", election_timeout_ms},
                            std::pair{"retry_ms", retry_ms},
                            std::pair{"catchup_ms", catchup_ms}})
    if (floor > timeout_max_ms)
      fail("paxos", {key},
           "(" + num(floor) + ") is above timeout_max_ms ("
             + num(timeout_max_ms) + ")");
  if (p.learner.buffer_max < p.proposer.window)
    fail("paxos", {"buffer_max", "window"},
         "buffer_max (" + num(p.learner.buffer_max)
           + ") must be at least window (" + num(p.proposer.window)
           + "): a leader decides up to window slots past a hole, and "
             "learners must hold them");
  p.servers = servers;
  p.proposer.heartbeat_ticks = ticks(heartbeat_ms, p.tick_ms);
  p.proposer.election_ticks = ticks(election_timeout_ms, p.tick_ms);
  p.set_retry_ticks(ticks(retry_ms, p.tick_ms));
  p.learner.catchup_ticks = ticks(catchup_ms, p.tick_ms);
  p.set_timeout_max_ticks(ticks(timeout_max_ms, p.tick_ms));

  // [client]
  if (client_retry_max_ms < client_retry_ms)
    fail("client", {"retry_max_ms"}, "is below retry_ms");

  // [simulator] and [faults]
  if (sim.delay_min_ms > sim.delay_max_ms)
    fail("simulator", {"delay_min_ms"},
         "(" + num(sim.delay_min_ms) + ") is above delay_max_ms ("
           + num(sim.delay_max_ms) + ")");
  if (sim.rotation_min_ms > sim.rotation_max_ms)
    fail("simulator", {"rotation_min_s"}, "is above rotation_max_s");
  if (!sim.rules.empty() && !sim.enabled)
    fail("faults", {}, "[faults] needs [simulator] enabled = true");

  // [runtime]
  if (connection_timeout_ms <= heartbeat_interval_ms)
    fail("runtime", {"connection_timeout_ms"},
         "must be longer than heartbeat_interval_ms");

  // [web]
  if (web.max_message_bytes < web.max_frame_bytes)
    fail("web", {"max_message_bytes"},
         "must be at least max_frame_bytes (a message is one frame or more)");
}

node_config parse_config(const std::string& text, const std::string& name) {
  ini f{text, name};
  node_config c;
  c.path = name;
  // [nodes] first: it decides the server ids.
  read_nodes(f, c);
  if (!c.distributed() && f.find("cluster", "f") == nullptr)
    f.fail_plain("[cluster] f is missing (failures to tolerate; the cluster "
                 "runs 2f+1 servers)");
  // Every key of the table: the file's value, or the default.
  for (auto& k : config_keys()) {
    auto value = f.get(k.section, k.key);
    if (value == nullptr && k.default_value == nullptr)
      continue; // f: [nodes] decides it
    try {
      k.apply(value != nullptr ? *value : k.default_value, c);
    } catch (std::invalid_argument& e) {
      f.fail_key(k.section, k.key, e.what());
    }
  }
  resolve_servers(f, c);
  read_faults(f, c);
  try {
    c.validate();
  } catch (config_key_error& e) {
    if (e.keys.empty())
      f.fail_plain(e.reason);
    auto key = std::find_if(e.keys.begin(), e.keys.end(), [&](auto& k) {
      return f.find(e.section, k) != nullptr;
    });
    f.fail_key(e.section, key != e.keys.end() ? *key : e.keys.back(),
               e.reason);
  }
  std::set<std::string> known;
  for (auto& k : config_keys())
    known.insert(k.section);
  for (auto& s : config_sections())
    known.insert(s.name);
  f.reject_unknown(known);
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
