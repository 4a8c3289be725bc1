#pragma once

// The event feed: one per node. It drains the node's event tap
// (event_tap.hpp) every `interval_ms` and sends what it kept, as one
// event_batch, to every subscribed gateway (messages/web.hpp). In one
// process the gateway subscribes to it directly; across processes through
// the server node's host, which forwards event_subscribe here. The tap is
// active only while someone is subscribed.
//
//   event logs --push--> tap <--drain-- feed --event_batch--> gateways

#include <cstdint>
#include <memory>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/web/event_tap.hpp"
#include "messages/web.hpp"

namespace cafchat {

struct event_feed_config {
  std::shared_ptr<event_tap> tap;
  uint32_t interval_ms = 200;
};

struct event_feed_state {
  static inline const char* name = "event_feed";
  std::vector<caf::actor> subscribers;
};

caf::behavior event_feed(caf::stateful_actor<event_feed_state>* self,
                         event_feed_config cfg);

} // namespace cafchat
