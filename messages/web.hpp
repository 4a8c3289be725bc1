#pragma once

// Messages of the web console's event feed (actors/web/event_feed.hpp):
// a gateway subscribes to a node's feed and receives the node's protocol
// events in bounded, sampled batches. They cross the network (caf-web
// subscribes to the feed of every server node through that node's host), so
// they are registered in messages/registry.cpp like every other message.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"

namespace cafchat {

/// Gateway -> event feed (directly, or through a server node's host): send
/// me your events (`on`), or stop. Repeating it is harmless; the feed
/// watches the subscriber and forgets it when it goes down. A gateway
/// subscribes only while a browser is connected: with no subscriber the
/// node's logs do not even build lines for the feed.
struct event_subscribe {
  caf::actor subscriber;
  bool on = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_subscribe& x) {
  return f(x.subscriber, x.on);
}

/// Event feed -> gateway: the event-log lines (JSON objects, as in
/// logs/server-*.jsonl) kept since the last batch, oldest first.
struct event_batch {
  std::vector<std::string> lines;
  /// Slot events (propose, accepted, decision, delivered) are kept for one
  /// slot in `stride` when there are more than a browser can show; 1: all.
  uint32_t stride = 1;
  uint64_t seen = 0;    ///< Lines the logs wrote since the last batch.
  uint64_t dropped = 0; ///< Of those, not kept (sampled out or over the cap).
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(x.lines, x.stride, x.seen, x.dropped);
}

} // namespace cafchat
