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

/// Runs node `id` until `stop` becomes true; returns the exit code (1 with a
/// message on stderr if the node cannot start: a busy port, a bad data
/// directory).
/// Runs node `id`; `bootstrap`: a server founds a brand-new cluster.
int run_node(caf::actor_system& sys, const node_config& cfg,
             const std::string& id, bool bootstrap,
             const std::atomic<bool>& stop);

} // namespace cafchat
