#pragma once

// Wiring: turns a validated node_config into running actors. In one process
// (configs/single-host.ini) it starts every server host, the load balancer and
// the simulator; nothing here is specific to one process except that the
// hosts learn about each other from a local list instead of over the network.

#include <map>
#include <memory>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"

#include "actors/common/event_log.hpp"
#include "actors/server/server_actor.hpp"
#include "actors/storage/storage.hpp"
#include "node/config.hpp"

namespace cafchat {

struct cluster {
  caf::actor load_balancer;
  caf::actor simulator; ///< Invalid when the simulator is off.
  std::map<server_id, caf::actor> hosts;
  std::map<server_id, server_storage> storage;
  /// Every disk was new: the servers founded a new cluster.
  bool bootstrapped = false;

  /// Stops every actor of the cluster (the hosts take their servers along).
  void stop();
};

/// The wall clock: UTC milliseconds since the Unix epoch (event logs' "ts",
/// the leaders' batch times). Nothing below node/ reads it.
uint64_t utc_now_ms();

/// Opens (creating directories as needed) the event log of `id`, or a null
/// log if `pattern` is empty. Throws std::runtime_error naming the path.
/// With a `tee`, every line also goes there (the web console).
event_log_ptr open_event_log(const std::string& pattern, const std::string& id,
                             const log_tee& tee = {});

/// Opens a server's storage as the config says. Throws std::runtime_error.
server_storage open_storage(const node_config& cfg, server_id id);

/// The per-server config every incarnation starts from.
server_config make_server_config(const node_config& cfg, server_id id,
                                 server_storage storage, event_log_ptr log,
                                 caf::actor simulator);

/// The cluster's front: the load balancer, and in front of the peers the
/// network-fault simulator when `[simulator] enabled` (else invalid). One
/// process starts both for a single-host cluster, the `lb` node for a
/// multi-process one.
struct front_actors {
  caf::actor load_balancer;
  caf::actor simulator;
};

/// Spawns the load balancer (and the simulator) of `cfg`, logging to `log`.
front_actors start_front(caf::actor_system& sys, const node_config& cfg,
                         event_log_ptr log);

/// Starts the whole cluster of `cfg` in this process; every event log also
/// writes to `tee` if given (the web console).
cluster start_local_cluster(caf::actor_system& sys, const node_config& cfg,
                            const log_tee& tee = {});

} // namespace cafchat
