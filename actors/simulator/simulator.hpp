#pragma once

// The network-fault simulator: the actor between peers (see
// actors/common/peer_links.hpp). Every peer message of a cluster with the
// simulator on arrives here wrapped in `routed` and leaves for its
// destination, or does not.

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/common/event_log.hpp"

namespace cafchat {

struct simulator_config {
  event_log_ptr log;
};

struct simulator_state {
  static inline const char* name = "simulator";
  uint64_t forwarded = 0;
};

caf::behavior simulator_actor(caf::stateful_actor<simulator_state>* self,
                              simulator_config cfg);

} // namespace cafchat
