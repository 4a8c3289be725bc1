#include "actors/proposer/proposer_actor.hpp"

#include <algorithm>
#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/common/peer_auth.hpp"
#include "actors/common/actor_util.hpp"
#include "actors/common/core_step.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<proposer_actor_state>*;

/// The core's role as /status reports it.
server_role role_of(proposer_role r) {
  switch (r) {
    case proposer_role::follower:
      return server_role::follower;
    case proposer_role::precandidate:
      return server_role::precandidate;
    case proposer_role::candidate:
      return server_role::candidate;
    case proposer_role::leader:
      return server_role::leader;
  }
  return server_role::follower;
}

void log_output(self_ptr self, const proposer_config& cfg,
                const proposer_output& out) {
  auto& log = *cfg.log;
  if (!log.enabled())
    return;
  auto t = now_ms(self);
  for (auto& o : out.send) {
    if (auto p = std::get_if<prepare>(&o.msg))
      log.event(t, cfg.opts.id, "prepare")
        .field("ballot", p->bal)
        .field("first_slot", p->first_slot);
    else if (auto a = std::get_if<accept>(&o.msg))
      log.event(t, cfg.opts.id, "propose")
        .field("ballot", a->bal)
        .field("slot", a->slot)
        .field("commands", static_cast<uint64_t>(a->val.commands.size()))
        .field("noop", a->val.is_noop());
    else if (auto d = std::get_if<decide>(&o.msg))
      log.event(t, cfg.opts.id, "decision")
        .field("slot", d->slot)
        .field("commands", static_cast<uint64_t>(d->val.commands.size()));
  }
  for (auto& n : out.notes)
    log.event(t, cfg.opts.id, n.what)
      .field("ballot", n.bal)
      .field("slot", n.slot)
      .field("count", n.count);
}

uint64_t wall_now(self_ptr self, const proposer_config& cfg) {
  if (cfg.wall_clock)
    return cfg.wall_clock();
  return static_cast<uint64_t>(std::max<int64_t>(0, now_ms(self)));
}

/// The proposer as core_step.hpp drives it.
struct proposer_driver : driver_base<proposer_core, self_ptr, proposer_config> {
  static constexpr bool group_commit = false;

  void stepped(const proposer_output& out) { log_output(self, cfg, out); }

  void persist(const proposer_writes& w) {
    if (w.round && cfg.storage)
      cfg.storage->write_proposer_round(*w.round); // before the prepare
  }

  void sending(const proposer_writes&, const std::vector<outgoing>& sends) {
    if (!cfg.monitor)
      return;
    for (auto& o : sends) {
      if (auto a = std::get_if<accept>(&o.msg))
        cfg.monitor->proposed(cfg.opts.id, a->slot, a->bal, a->val);
      else if (auto p = std::get_if<prepare>(&o.msg))
        cfg.monitor->campaigned(cfg.opts.id, self->state.epoch, p->bal);
    }
  }
};

/// The driver of one input; the core reads the wall time from it (it
/// stamps the batches the input may form).
proposer_driver drive(self_ptr self, const proposer_config& cfg) {
  self->state.core->set_time(wall_now(self, cfg));
  return {{self, cfg}};
}

/// A "timeouts" line whenever the timeouts in force moved by a quarter or
/// more since the last one: how they follow the network (docs/design.md).
void log_timeouts(self_ptr self, const proposer_config& cfg) {
  if (!cfg.log->enabled())
    return;
  auto& c = *self->state.core;
  auto& last = self->state.logged_timeouts;
  uint64_t now[3] = {c.round_trip_timeout(), c.heartbeat_interval(),
                     c.election_base()};
  bool moved = false;
  for (int i = 0; i < 3; ++i)
    moved = moved || now[i] * 4 > last[i] * 5 || now[i] * 5 < last[i] * 4;
  if (!moved)
    return;
  std::copy(std::begin(now), std::end(now), std::begin(last));
  cfg.log->event(now_ms(self), cfg.opts.id, "timeouts")
    .field("round_trip_ms", now[0] * cfg.tick_ms)
    .field("heartbeat_ms", now[1] * cfg.tick_ms)
    .field("election_ms", now[2] * cfg.tick_ms)
    .field("srtt_ms", c.fastest_quorum_srtt() * cfg.tick_ms);
}

} // namespace

caf::behavior proposer_actor(caf::stateful_actor<proposer_actor_state>* self,
                             proposer_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  log_crashes(self, cfg.log, cfg.opts.id, "proposer");
  proposer_state loaded;
  if (cfg.storage)
    loaded.round = cfg.storage->proposer_round();
  auto opts = cfg.opts;
  // Until our acceptor says it votes, we cannot know which ballots this
  // server used before a lost disk: no campaigns.
  opts.joined = false;
  self->state.core.emplace(opts, loaded);
  self->state.links = peer_links{cfg.opts.id, cfg.simulator};
  for (auto& p : cfg.peers)
    self->state.links.update(p);
  start_ticks(drive(self, cfg), cfg.tick_ms);
  return {
    // -- client commands -----------------------------------------------------
    [=](submit& msg) {
      if (!admit(self, msg_class::local_only, "submit")) return;
      step(drive(self, cfg), [&](proposer_core& c) {
        return c.submit(std::move(msg.commands));
      });
    },
    [=](const forward& msg) { step(drive(self, cfg), msg); },
    // -- leader election -----------------------------------------------------
    [=](tick_atom) {
      if (!admit(self, msg_class::local_only, "tick")) return;
      tick(drive(self, cfg), cfg.tick_ms);
      log_timeouts(self, cfg);
    },
    [=](campaign_atom) {
      if (!admit(self, msg_class::local_only, "campaign")) return;
      step(drive(self, cfg), [](proposer_core& c) { return c.campaign(); });
    },
    [=](const prevote_request& msg) { step(drive(self, cfg), msg); },
    [=](const prevote_reply& msg) { step(drive(self, cfg), msg); },
    [=](const heartbeat& msg) { step(drive(self, cfg), msg); },
    [=](const heartbeat_reply& msg) { step(drive(self, cfg), msg); },
    // -- phase 1 -------------------------------------------------------------
    [=](const promise& msg) { step(drive(self, cfg), msg); },
    // -- phase 2 -------------------------------------------------------------
    [=](const accepted& msg) { step(drive(self, cfg), msg); },
    [=](const nack& msg) {
      if (cfg.log->enabled())
        cfg.log->event(now_ms(self), cfg.opts.id, "rejected")
          .field("ballot", msg.rejected)
          .field("higher", msg.promised)
          .field("slot", msg.slot)
          .field("from", msg.from);
      step(drive(self, cfg), msg);
    },
    // -- own server ----------------------------------------------------------
    [=](const joined& msg) {
      self->state.epoch = msg.epoch;
      step(drive(self, cfg), msg);
    },
    [=](const learned_for_proposer& msg) { step(drive(self, cfg), msg); },
    // -- operator and peers --------------------------------------------------
    [=](skip_atom) -> bool {
      // The host hands the load balancer's request on (keeping its sender).
      if (!admit(self, msg_class::from_lb, "skip_slot"))
        return false;
      bool ok = self->state.core->skip_slot();
      if (ok && cfg.log->enabled())
        cfg.log->event(now_ms(self), cfg.opts.id, "skip_requested");
      return ok;
    },
    [=](peer_atom, const server_info& info) {
      if (!admit(self, msg_class::local_only, "peer_atom")) return;
      self->state.links.update(info);
    },
    [=](sim_atom, const caf::actor& sim) {
      if (!admit(self, msg_class::local_only, "sim_atom")) return;
      self->state.links.set_simulator(sim);
    },
    [=](status_atom) {
      auto& c = *self->state.core;
      server_status st;
      st.id = c.id();
      st.alive = true;
      st.role = role_of(c.role());
      st.bal = c.max_seen();
      st.leader = c.leader();
      st.chosen_upto = c.chosen_upto();
      st.timeout_ms = c.round_trip_timeout() * cfg.tick_ms;
      st.peers = self->state.links.known_peers();
      return st;
    },
  };
}

} // namespace cafchat
