#pragma once

// A server host: what survives when a server crashes. It owns the server's
// storage (its "disk"), starts the server's actors and starts them again on
// /restart with a higher incarnation, registers the running server with the
// load balancer, and tells the peer hosts about it, which pass the new
// handles to their roles (and the network-fault simulator, if any, which
// watches which servers are live). In a multi-process cluster there is one host per
// server process; in one process, one per server.

#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <functional>
#include <map>
#include <set>

#include "actors/server/server_actor.hpp"

namespace cafchat {

struct host_config {
  server_config server;      ///< Template for every incarnation.
  caf::actor load_balancer;  ///< May be invalid: (lb_atom, actor) sets it.
  bool start_running = true; ///< Start the server at once.
  /// Incarnations count up from here. A multi-process node passes the start
  /// time, so a restarted process announces a higher incarnation than any
  /// of its predecessors and peers replace their stale handles.
  uint64_t incarnation_base = 0;
  /// Makes new, empty storage for this server (the operator's wipe: a dead
  /// disk replaced); null: wipe is refused.
  std::function<server_storage()> new_storage;
  /// The node's event feed for the web console (actors/web/event_feed.hpp):
  /// the host forwards event_subscribe there. May be invalid.
  caf::actor event_feed;
};

struct host_state {
  static inline const char* name = "host";
  caf::actor server;                  ///< The running front, if any.
  caf::actor load_balancer;
  caf::actor simulator;
  server_info info;                   ///< Its handles.
  uint64_t incarnation = 0;
  server_storage storage;             ///< The server's disk, as it is now.
  bool founder = false;               ///< Its storage belongs to a founder.
  bool restarting = false;            ///< A restart waits for old roles.

  std::vector<caf::actor> peer_hosts; ///< One-process wiring.
  std::map<server_id, server_info> peers;
  /// Actors of a stopped incarnation still running (they may still write
  /// to the storage), and what waits for all of them to be gone: a /kill's
  /// answer, a wipe, the next incarnation's start.
  std::set<caf::actor_addr> old_roles;
  std::vector<std::function<void()>> when_stopped;
};

caf::behavior host_actor(caf::stateful_actor<host_state>* self,
                         host_config cfg);

} // namespace cafchat
