#include "actors/web/event_feed.hpp"

#include <algorithm>

#include "actors/common/actor_util.hpp"
#include "messages/atoms.hpp"

namespace cafchat {

caf::behavior event_feed(caf::stateful_actor<event_feed_state>* self,
                         event_feed_config cfg) {
  drop_unexpected(self);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) {
                                return a.address() == dm.source;
                              }),
               subs.end());
    if (subs.empty())
      cfg.tap->set_active(false);
  });
  self->delayed_send(self, ms(cfg.interval_ms), tick_atom::value);
  return {
    [=](const event_subscribe& s) {
      auto& subs = self->state.subscribers;
      auto i = std::find(subs.begin(), subs.end(), s.subscriber);
      if (!s.on) {
        if (i != subs.end()) {
          self->demonitor(s.subscriber);
          subs.erase(i);
        }
        if (subs.empty())
          cfg.tap->set_active(false);
        return;
      }
      if (!s.subscriber || i != subs.end())
        return;
      subs.push_back(s.subscriber);
      self->monitor(s.subscriber);
      cfg.tap->set_active(true);
    },
    [=](tick_atom) {
      self->delayed_send(self, ms(cfg.interval_ms), tick_atom::value);
      auto b = cfg.tap->drain();
      if (self->state.subscribers.empty() || (b.lines.empty() && b.seen == 0))
        return;
      event_batch msg{std::move(b.lines), b.stride, b.seen, b.dropped};
      for (auto& s : self->state.subscribers)
        self->send(s, msg);
    },
  };
}

} // namespace cafchat
