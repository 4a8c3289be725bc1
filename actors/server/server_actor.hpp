#pragma once

// A running server: its front actor spawns the acceptor, proposer and
// learner, linked to it, and opens client sessions. Killing the front kills
// the whole server (roles and sessions), which is how /kill crashes one; its
// storage lives on in its host (host_actor.hpp).
//
//                         +--> acceptor
//   host --spawn--> front +--> proposer <--> learner
//                         +--> client_session (one per client)

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/acceptor/acceptor_actor.hpp"
#include "actors/common/event_log.hpp"
#include "actors/learner/learner_actor.hpp"
#include "actors/proposer/proposer_actor.hpp"
#include "actors/server/server_params.hpp"
#include "actors/storage/storage.hpp"
#include "messages/control.hpp"

namespace cafchat {

struct server_config {
  server_id id = 0;
  uint64_t incarnation = 1;
  server_params params;
  server_storage storage;
  /// A founding member of a cluster declared new: with fresh storage its
  /// acceptor votes at once. Any other fresh storage rejoins first.
  bool founder = false;
  event_log_ptr log;
  /// TEST ONLY: the global view of every acceptor (tests/sim); may be null.
  std::shared_ptr<paxos_monitor> monitor;
  caf::actor simulator;
  std::vector<server_info> peers; ///< Known peers (not this server).
  std::string host;               ///< Advertised to clients (multi-process).
  uint16_t port = 0;
  /// UTC milliseconds now, for the leaders' batch times: node/ passes the
  /// system clock; the simulation gives each server a skewed simulated one.
  /// Null: the actor's clock (proposer_actor.hpp).
  std::function<uint64_t()> wall_clock;
};

/// The role configurations that follow from the server parameters; the
/// caller adds what a running server has (handles, logs, peers).
acceptor_config acceptor_config_for(const server_params& p, server_id id,
                                    std::shared_ptr<acceptor_storage> storage);
learner_config learner_config_for(const server_params& p, server_id id,
                                  std::shared_ptr<learner_storage> storage);
proposer_config proposer_config_for(const server_params& p, server_id id,
                                    uint64_t incarnation);

struct server_state {
  static inline const char* name = "server";
  server_info info;
  uint32_t sessions = 0;
  struct session_entry {
    uint64_t client = 0;
    caf::node_id node;
    caf::actor actor;
  };
  std::map<caf::actor_addr, session_entry> session_of; ///< By session.
  std::map<uint64_t, caf::actor_addr> by_client;        ///< One per client.
  std::map<caf::node_id, uint32_t> per_node;            ///< Remote nodes.
};

caf::behavior server_actor(caf::stateful_actor<server_state>* self,
                           server_config cfg);

} // namespace cafchat
