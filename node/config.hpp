#pragma once

// The node configuration: parsed once, strictly, into validated plain structs.
//
// CAF 0.17's own config parser silently ignores unknown keys, type errors
// and brace syntax, so cafchat reads its INI files itself: every key is
// known, typed and range-checked, and any mistake stops the program with a
// message that names the file, line, section and key (exit code 2). Every
// key, its default and its unit are documented in configs/single-host.ini.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/server/server_params.hpp"
#include "actors/simulator/sim_options.hpp"
#include "actors/web/web_settings.hpp"

namespace cafchat {

/// A configuration mistake; `what()` names the file, line and key.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// One process of a multi-process cluster.
struct node_endpoint {
  std::string id; ///< "1", "2", ... or "lb".
  std::string host;
  uint16_t port = 0;
};

struct node_config {
  std::string path; ///< The file it came from.

  // [cluster]
  uint32_t f = 1;
  std::vector<server_id> servers; ///< 1..2f+1, or the [nodes] server ids.
  std::string storage = "memory"; ///< memory | lmdb
  std::string data_dir = "data/server-{id}";

  // [paxos], converted to ticks
  server_params params;
  uint32_t heartbeat_ms = 50;
  uint32_t election_timeout_ms = 500;
  uint32_t retry_ms = 100;
  uint32_t catchup_ms = 100;

  // [client]
  uint32_t client_retry_ms = 1000;
  uint32_t client_retry_max_ms = 600000;
  uint32_t client_connect_timeout_ms = 2000;

  // [simulator]
  sim_options sim;

  // [log]
  std::string events = "logs/server-{id}.jsonl"; ///< Empty: no event log.
  std::string lb_events = "logs/lb.jsonl";

  // [runtime]
  uint32_t threads = 2;
  /// CAF scheduler: "sharing" (one queue, threads woken at once: lower
  /// latency across processes), "stealing" (per-thread queues: more
  /// throughput inside one process), or "auto" (sharing for a node of a
  /// multi-process cluster, stealing for a whole cluster in one process).
  std::string scheduler = "auto";
  uint32_t heartbeat_interval_ms = 200;   ///< BASP heartbeats between nodes.
  uint32_t connection_timeout_ms = 2000;  ///< A silent node is dead after it.
  /// Threads that decode incoming network messages (0: the network thread
  /// decodes them itself, one thread hand-off less per message).
  uint32_t network_workers = 0;

  // [web]: the browser console (docs/web.md); listen "" is off.
  web_settings web;

  // [nodes]: a multi-process cluster (empty: everything in one process).
  std::map<std::string, node_endpoint> nodes;

  bool distributed() const { return !nodes.empty(); }
  /// The scheduler policy to use, "auto" resolved.
  std::string scheduler_policy() const {
    if (scheduler != "auto")
      return scheduler;
    return distributed() ? "sharing" : "stealing";
  }
  /// `pattern` with "{id}" replaced by `id`.
  static std::string expand(const std::string& pattern, const std::string& id);
};

/// Reads and validates `path`; throws config_error.
node_config load_config(const std::string& path);

/// Parses and validates INI text (for tests); `name` appears in errors.
node_config parse_config(const std::string& text, const std::string& name);

} // namespace cafchat
