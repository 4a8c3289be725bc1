#include "actors/simulator/simulator.hpp"

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "messages/control.hpp"

namespace cafchat {

caf::behavior simulator_actor(caf::stateful_actor<simulator_state>* self,
                              simulator_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  return {
    [=](const routed& r) {
      ++self->state.forwarded;
      self->send(r.dest, r.payload);
    },
  };
}

} // namespace cafchat
