#pragma once

// The node configuration: parsed once, strictly, into validated plain structs.
//
// CAF 0.17's own config parser silently ignores unknown keys, type errors
// and brace syntax, so cafchat reads its INI files itself: every key is
// known, typed and range-checked, and any mistake stops the program with a
// message that names the file, line, section and key (exit code 2). Every
// key is defined once, with its default, bounds, unit and meaning, in the
// key table (node/config_keys.hpp); configs/single-host.ini documents them
// all, as tests/node/config_test.cpp checks.

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

/// A mistake node_config::validate() finds: it names the section and the
/// keys to blame, the first of them present in the file (or the last);
/// parse_config adds the file and line. No keys: the whole file is wrong.
class config_key_error : public config_error {
public:
  config_key_error(std::string section, std::vector<std::string> keys,
                   const std::string& reason);
  std::string section;
  std::vector<std::string> keys;
  std::string reason;
};

/// One process of a multi-process cluster.
struct node_endpoint {
  std::string id; ///< "1", "2", ... or "lb".
  std::string host;
  uint16_t port = 0;
};

/// The settings of a node. Each key's default, bounds, unit and meaning are
/// defined once, in the key table (node/config_keys.cpp); parse_config fills
/// every field from it. A default-constructed node_config is not a valid
/// configuration.
struct node_config {
  std::string path; ///< The file it came from.

  // [cluster]
  uint32_t f = 0;
  std::vector<server_id> servers; ///< 1..2f+1, or the [nodes] server ids.
  std::string storage;            ///< memory | lmdb
  std::string data_dir;           ///< "{id}" is the server id.

  // [paxos]: the roles' options, and the timeouts in milliseconds, which
  // validate() converts to the roles' ticks.
  server_params params;
  uint32_t heartbeat_ms = 0;
  uint32_t election_timeout_ms = 0;
  uint32_t retry_ms = 0;
  uint32_t catchup_ms = 0;
  uint32_t timeout_max_ms = 0;

  // [client]
  uint32_t client_retry_ms = 0;
  uint32_t client_retry_max_ms = 0;
  uint32_t client_connect_timeout_ms = 0;

  // [simulator], and its per-server [faults] rules
  sim_options sim;

  // [log]
  std::string events;    ///< Empty: no event log.
  std::string lb_events; ///< Empty: no event log.

  // [runtime]
  uint32_t threads = 0;
  /// CAF scheduler: "sharing" (one queue, threads woken at once: lower
  /// latency across processes), "stealing" (per-thread queues: more
  /// throughput inside one process), or "auto" (sharing for a node of a
  /// multi-process cluster, stealing for a whole cluster in one process).
  std::string scheduler;
  uint32_t heartbeat_interval_ms = 0; ///< BASP heartbeats between nodes.
  uint32_t connection_timeout_ms = 0; ///< A silent node is dead after it.
  /// Threads that decode incoming network messages (0: the network thread
  /// decodes them itself, one thread hand-off less per message).
  uint32_t network_workers = 0;
  /// Largest BASP payload a peer may announce (node/net_guard.hpp); a
  /// larger one closes the connection before any buffer is sized from it.
  uint32_t max_frame_bytes = 0;
  uint64_t connection_backlog_max_bytes = 0; ///< [limits]

  // [tls]: mutual TLS between the processes (docs/security.md); all three
  // empty: plaintext. "{id}" in certificate and key is the node id.
  std::string tls_ca;
  std::string tls_certificate;
  std::string tls_key;
  bool tls() const { return !tls_ca.empty(); }

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

  /// Checks what no single key can (heartbeat_ms shorter than
  /// election_timeout_ms, delay_min_ms not above delay_max_ms, ...) and
  /// turns the milliseconds into the roles' ticks, like etcd raft's
  /// Config.validate. Throws config_key_error.
  void validate();
};

/// Reads and validates `path`; throws config_error.
node_config load_config(const std::string& path);

/// Parses and validates INI text (for tests); `name` appears in errors.
node_config parse_config(const std::string& text, const std::string& name);

} // namespace cafchat
