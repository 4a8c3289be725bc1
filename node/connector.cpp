#include "node/connector.hpp"

#include <algorithm>
#include <random>

#include "caf/io/middleman.hpp"
#include "caf/io/middleman_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "messages/atoms.hpp"
#include "node/distributed.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<connector_state>*;

void report(self_ptr self, const connector_config& cfg) {
  std::vector<caf::actor> hosts;
  caf::actor lb;
  for (auto& [id, l] : self->state.links) {
    if (!l.remote)
      continue;
    if (id == "lb")
      lb = l.remote;
    else
      hosts.push_back(l.remote);
  }
  self->send(cfg.owner, hosts_atom::value, hosts);
  self->send(cfg.owner, lb_atom::value, lb);
}

void attempt(self_ptr self, const connector_config& cfg, const std::string& id);

void retry_later(self_ptr self, const connector_config& cfg,
                 const std::string& id) {
  auto& l = self->state.links[id];
  l.connecting = false;
  l.backoff_ms = l.backoff_ms == 0
                   ? cfg.backoff_min_ms
                   : std::min(cfg.backoff_max_ms, l.backoff_ms * 2);
  // Jitter, from 1/2 to 3/2 of the backoff: two nodes that connect to each
  // other at the same moment make CAF drop both connections as redundant
  // (with TLS, whose handshake takes longer, it happens at every start);
  // retrying in lockstep, they would do so forever.
  auto wait = l.backoff_ms / 2 + self->state.rng() % (l.backoff_ms + 1);
  self->delayed_send(self, ms(wait), retry_atom::value, id, l.attempt);
}

void attempt(self_ptr self, const connector_config& cfg, const std::string& id) {
  auto& l = self->state.links[id];
  if (l.remote || l.connecting)
    return;
  l.connecting = true;
  auto n = ++l.attempt;
  auto mm = network_handle(self->home_system());
  self
    ->request(mm, ms(cfg.connect_timeout_ms), caf::connect_atom::value,
              l.ep.host, l.ep.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>&) {
        auto& l = self->state.links[id];
        if (l.attempt != n)
          return;
        l.connecting = false;
        auto remote = caf::actor_cast<caf::actor>(ptr);
        if (!remote) {
          retry_later(self, cfg, id); // a node is there, but nothing published
          return;
        }
        l.remote = remote;
        l.connected_at_ms = now_ms(self);
        self->monitor(remote);
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), cfg.self_id, "peer_connected")
            .field("node", id)
            .field("address", l.ep.host + ":" + std::to_string(l.ep.port));
        report(self, cfg);
      },
      [=](caf::error&) {
        if (self->state.links[id].attempt == n)
          retry_later(self, cfg, id);
      });
}

} // namespace

caf::behavior connector_actor(caf::stateful_actor<connector_state>* self,
                              connector_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  for (auto& ep : cfg.targets)
    self->state.links[ep.id].ep = ep;
  self->state.rng.seed(std::random_device{}() ^ cfg.self_id);
  self->set_down_handler([=](const caf::down_msg& dm) {
    for (auto& [id, l] : self->state.links)
      if (l.remote && l.remote.address() == dm.source) {
        l.remote = caf::actor{};
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), cfg.self_id, "peer_lost")
            .field("node", id)
            .field("reason", caf::to_string(dm.reason));
        report(self, cfg);
        // A link that held for a while reconnects at once; one lost right
        // after it came up (two nodes connecting to each other at the same
        // time: CAF drops one of the connections) backs off, doubling, so
        // that the nodes do not keep replacing each other's connection.
        if (now_ms(self) - l.connected_at_ms >= 2000) {
          l.backoff_ms = 0;
          attempt(self, cfg, id);
        } else {
          retry_later(self, cfg, id);
        }
      }
  });
  for (auto& [id, l] : self->state.links)
    attempt(self, cfg, id);
  return {
    [=](retry_atom, const std::string& id, uint64_t n) {
      auto i = self->state.links.find(id);
      if (i != self->state.links.end() && i->second.attempt == n)
        attempt(self, cfg, id);
    },
  };
}

} // namespace cafchat
