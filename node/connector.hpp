#pragma once

// The connector keeps one node of a multi-process cluster connected to the
// other nodes it needs: a server node to its peer servers and to the load
// balancer. It connects asynchronously through the middleman actor (never
// the blocking remote_actor inside an actor), with a timeout per attempt and
// an exponential backoff between attempts, monitors each remote actor, and
// reconnects when it goes down. A restarted peer is a new CAF node: the
// reconnect resolves its new actor.
//
// It tells its owner the current set after every change:
//   (hosts_atom, std::vector<caf::actor>)  the reachable peer hosts
//   (lb_atom, caf::actor)                  the load balancer (or invalid)

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/common/event_log.hpp"
#include "node/config.hpp"

namespace cafchat {

struct connector_config {
  std::vector<node_endpoint> targets; ///< id "lb" is the load balancer.
  caf::actor owner;
  uint32_t connect_timeout_ms = 2000;
  uint32_t backoff_min_ms = 100;
  uint32_t backoff_max_ms = 2000;
  event_log_ptr log;
  server_id self_id = 0; ///< For log lines.
};

struct connector_state {
  static inline const char* name = "connector";
  struct link {
    node_endpoint ep;
    caf::actor remote;       ///< Invalid while disconnected.
    bool connecting = false;
    uint32_t backoff_ms = 0;
    uint64_t attempt = 0;
    int64_t connected_at_ms = 0; ///< When `remote` last came up.
  };
  std::map<std::string, link> links;
  std::minstd_rand rng; ///< Jitter of the retries.
};

caf::behavior connector_actor(caf::stateful_actor<connector_state>* self,
                              connector_config cfg);

} // namespace cafchat
