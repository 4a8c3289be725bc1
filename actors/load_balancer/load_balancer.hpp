#pragma once

// The load balancer: servers register with it; it serves
// clients only once every configured server has registered, refuses a server
// id the configuration does not list, and places each client on the live
// server with the fewest clients (the leader, among equals). It watches
// servers and clients, so a dead server gets no new clients and a departed
// client frees its place. It also
// answers /who and /status for the whole cluster and relays operator
// commands (/kill, /restart, /skip-slot) to the server hosts.

#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <string>
#include <map>

#include "actors/common/event_log.hpp"
#include "actors/load_balancer/name_registry.hpp"
#include "messages/control.hpp"

namespace cafchat {

struct load_balancer_config {
  std::vector<server_id> servers; ///< Every configured server id.
  uint32_t max_text_bytes = 4096;
  caf::actor simulator; ///< Handed to servers that ask (multi-process).
  /// How often to ask the servers who leads (0: never). Among the servers
  /// with the fewest clients a new client goes to the leader: it saves the
  /// hop from a follower to the leader.
  uint32_t leader_poll_ms = 1000;
  event_log_ptr log;
  /// Live clients the balancer places, at most ([limits] sessions_per_server
  /// times the servers; 0: no limit).
  uint32_t max_clients = 0;
};

struct load_balancer_state {
  static inline const char* name = "load_balancer";
  struct server_entry {
    server_info info;
    caf::actor host;
    bool registered = false; ///< Ever registered.
    bool alive = false;
    uint32_t clients = 0;
  };
  struct client_entry {
    std::string name;
    server_id server = 0;
    caf::actor actor;
  };
  std::map<server_id, server_entry> servers;
  std::map<uint64_t, client_entry> clients;
  name_registry names; ///< Names of the live clients: unique.
  bool ready = false;
  server_id leader = 0; ///< As last reported by the servers (tie-breaks).
};

caf::behavior load_balancer(caf::stateful_actor<load_balancer_state>* self,
                            load_balancer_config cfg);

} // namespace cafchat
