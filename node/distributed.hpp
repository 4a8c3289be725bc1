#pragma once

// One node of a multi-process cluster (configs/cluster-3.ini): either the
// load balancer node ("lb", which also runs the simulator when enabled) or a
// server node (its host, storage and roles). Nodes find each other through
// CAF's middleman: each publishes one actor on its configured port and
// connects to the others (node/connector.hpp).

#include <atomic>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/expected.hpp"
#include "caf/io/middleman_actor.hpp"

#include "actors/common/authority.hpp"
#include "actors/common/event_log.hpp"

#include "node/config.hpp"

namespace cafchat {

/// Everything a program of this cluster sets on its actor system: the
/// message types, scheduler threads and policy, and for a multi-process
/// cluster the network (below).
void configure_runtime(caf::actor_system_config& sys_cfg, const node_config& cfg);

/// Loads the middleman and turns on BASP heartbeats and connection timeouts
/// (both off by default in CAF 0.17: a frozen peer would never be declared
/// dead).
void configure_network(caf::actor_system_config& sys_cfg, const node_config& cfg);

/// Fills in the TLS files of `cfg` for node `node_id` ("{id}" expanded);
/// `cert`, `key` and `ca` (the command line's --cert, --key, --ca) replace
/// the config's. Returns why they cannot be used (unreadable, a key others
/// can read, half of them given), or an empty string (TLS or plaintext).
std::string resolve_tls(node_config& cfg, const std::string& node_id,
                        const std::string& cert, const std::string& key,
                        const std::string& ca);

/// The middleman actor to connect through: the TLS one when [tls] is set.
caf::io::middleman_actor network_handle(caf::actor_system& sys);

/// Connects to the actor published at host:port (blocking: main thread
/// only), over TLS when [tls] is set.
caf::expected<caf::actor> connect_to(caf::actor_system& sys,
                                     const std::string& host, uint16_t port);

/// As connect_to, and with TLS the process there must hold the certificate
/// of `expected` (the load balancer, say); otherwise an error that
/// is_wrong_peer recognises, naming whose certificate it holds.
caf::expected<caf::actor> connect_to(caf::actor_system& sys,
                                     const std::string& host, uint16_t port,
                                     const principal& expected);

/// Whether `err` says the peer's certificate names someone else (retrying
/// does not help).
bool is_wrong_peer(const caf::error& err);

/// Says on stderr (and in `log`) that this process runs without TLS.
void say_if_unauthenticated(const node_config& cfg, const std::string& who,
                            const event_log_ptr& log, server_id id);

/// Runs node `id` until `stop` becomes true; returns the exit code (1 with a
/// message on stderr if the node cannot start: a busy port, a bad data
/// directory).
/// Runs node `id`; `bootstrap`: a server founds a brand-new cluster.
int run_node(caf::actor_system& sys, const node_config& cfg,
             const std::string& id, bool bootstrap,
             const std::atomic<bool>& stop);

} // namespace cafchat
