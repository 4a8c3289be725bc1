#pragma once

// The network-fault simulator: the actor between peers (see
// actors/common/peer_links.hpp). Every peer message of a cluster with the
// simulator on arrives here wrapped in `routed` and leaves for its
// destination after a delay, twice, or not at all, as its core
// (fault_model.hpp) decides. Its faults: random delays, one omission-faulty
// server that moves every few minutes, per-server rules that delay messages
// by phase or drop a server's traffic, random loss, duplication and
// partitions.
//
//   server i --routed{i, j, dest, payload}--> simulator --payload--> dest (on j)
//                                                 |  drop: omission, partition,
//   host --(peer, server_info)--> simulator       |        rule d:N, random
//     (monitors the front: live servers)          |  delay: U[min, max] + rule
//   operator --sim_control--> simulator           |        of j for the phase
//     <--sim_report or error--                    |  duplicate: once more
//   simulator --(tick, epoch)--> itself: move the omission fault
//
// Every decision is an event-log line ("fault"), and all randomness comes
// from the seed in sim_options, so a run replays exactly.

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "caf/actor_addr.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/common/event_log.hpp"
#include "actors/simulator/fault_model.hpp"
#include "actors/simulator/sim_options.hpp"

namespace cafchat {

struct simulator_config {
  /// Every fault setting, the seed included. Invalid options (see
  /// sim_options::validate) make the actor quit at once.
  sim_options opts;
  event_log_ptr log;
  /// The configured server ids, to refuse controls naming others. Empty: the
  /// servers announced so far are the known ones.
  std::vector<server_id> servers;
};

struct simulator_state {
  static inline const char* name = "simulator";

  /// A server as announced by its host: its newest incarnation and front
  /// (monitored: a down front makes the server not live).
  struct server_entry {
    uint64_t incarnation = 0;
    caf::actor_addr front;
  };

  std::optional<fault_model> model;
  std::map<server_id, server_entry> servers;

  const fault_counters& counters() const { return model->counters(); }
  server_id faulty() const { return model->faulty(); }
};

caf::behavior simulator_actor(caf::stateful_actor<simulator_state>* self,
                              simulator_config cfg);

/// The phase of a peer message, from its peer_traits (messages/paxos.hpp);
/// msg_phase::none for anything else.
msg_phase phase_of(const caf::message& payload);

/// The payload's type name for the event log, from its peer_traits
/// ("prepare", ...), or "other".
std::string_view type_name_of(const caf::message& payload);

} // namespace cafchat
