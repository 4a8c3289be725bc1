#include "actors/acceptor/acceptor_actor.hpp"

#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/common/actor_util.hpp"
#include "messages/atoms.hpp"

namespace cafchat {

/// The core's window on durable slots: the acceptor's own storage, and the
/// learner's decided log for what a rejoined acceptor knows as chosen.
class acceptor_storage_log : public acceptor_log {
public:
  acceptor_storage_log(std::shared_ptr<acceptor_storage> a,
                       std::shared_ptr<learner_storage> l)
    : accepted_(std::move(a)), decided_(std::move(l)) {}

  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override {
    return accepted_->accepted_range(first, max);
  }

  std::vector<decide> chosen_range(uint64_t first, size_t max) override {
    if (!decided_)
      return {};
    return decided_->decided(first, max);
  }

private:
  std::shared_ptr<acceptor_storage> accepted_;
  std::shared_ptr<learner_storage> decided_;
};

namespace {

using self_ptr = caf::stateful_actor<acceptor_actor_state>*;

/// The core's mode as /status reports it.
acceptor_status status_of(acceptor_mode m) {
  switch (m) {
    case acceptor_mode::voting:
      return acceptor_status::voting;
    case acceptor_mode::rejoining:
      return acceptor_status::rejoining;
  }
  return acceptor_status::unknown;
}

void log_event(self_ptr self, const acceptor_config& cfg,
               const outgoing& o) {
  auto& log = *cfg.log;
  auto t = now_ms(self);
  auto id = cfg.opts.id;
  if (auto p = std::get_if<promise>(&o.msg))
    log.event(t, id, "promise")
      .field("ballot", p->bal)
      .field("to", p->bal.node)
      .field("first_slot", p->first_slot)
      .field("reported", static_cast<uint64_t>(p->accepted.size()));
  else if (auto a = std::get_if<accepted>(&o.msg))
    log.event(t, id, "accepted").field("ballot", a->bal).field("slot", a->slot);
  else if (auto n = std::get_if<nack>(&o.msg))
    log.event(t, id, "rejection")
      .field("ballot", n->rejected)
      .field("higher", n->promised)
      .field("slot", n->slot)
      .field("to", n->rejected.node);
  else if (auto r = std::get_if<rejoin_reply>(&o.msg))
    log.event(t, id, "rejoin_reply")
      .field("to", o.to)
      .field("ok", r->ok)
      .field("ballot", r->bal)
      .field("epoch", r->epoch)
      .field("reported", static_cast<uint64_t>(r->accepted.size()));
}

void log_notes(self_ptr self, const acceptor_config& cfg,
               const acceptor_output& out) {
  auto& log = *cfg.log;
  auto& core = *self->state.core;
  for (auto& n : out.notes) {
    auto line = log.event(now_ms(self), cfg.opts.id, n.what);
    if (std::string_view{n.what} == "acceptor_mode") {
      line.field("mode", to_string(core.mode()))
        .field("epoch", core.meta().epoch)
        .field("promised", core.promised());
    } else {
      line.field("ballot", n.bal).field("slot", n.slot).field("count", n.count);
    }
    if (n.why != nullptr)
      line.field("why", n.why);
  }
}

/// Tells the monitor (if any) about a promise or acceptance about to leave.
void announce(self_ptr self, const acceptor_config& cfg, const outgoing& o,
              const value* val) {
  auto id = cfg.opts.id;
  auto epoch = self->state.core->meta().epoch;
  if (auto p = std::get_if<promise>(&o.msg))
    cfg.monitor->promised(id, epoch, p->bal);
  else if (auto r = std::get_if<rejoin_reply>(&o.msg); r && r->ok)
    cfg.monitor->promised(id, epoch, r->bal);
  else if (auto a = std::get_if<accepted>(&o.msg); a && val != nullptr)
    cfg.monitor->accepted(id, epoch, a->slot, a->bal, *val);
}

void flush(self_ptr self, const acceptor_config& cfg);

/// Applies one core output: logs it, queues its writes and sends for the
/// next flush (group commit), and acts on what concerns this server alone.
void apply(self_ptr self, const acceptor_config& cfg, acceptor_output&& out,
           acceptor_mode before) {
  auto& st = self->state;
  if (cfg.log->enabled())
    log_notes(self, cfg, out);
  st.writes.merge(std::move(out.writes));
  for (auto& o : out.send)
    st.sends.push_back(std::move(o));
  if (out.catch_up_to > 0)
    if (auto l = st.links.lookup(cfg.opts.id, role::learner))
      self->send(l, chosen_atom::value, out.catch_up_to, out.catch_up_from);
  if (before != acceptor_mode::voting
      && st.core->mode() == acceptor_mode::voting)
    if (auto p = st.links.lookup(cfg.opts.id, role::proposer))
      self->send(p, joined_atom::value, st.core->promised(),
                 st.core->meta().epoch);
  if (!st.flush_queued && (!st.sends.empty() || !st.writes.empty())) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

/// Runs `f` on the core (checking invariants around it when asked to), and
/// applies what it returns.
template <class F>
void step(self_ptr self, const acceptor_config& cfg, F f) {
  auto& core = *self->state.core;
  auto before = core.mode();
  if (!cfg.check_invariants) {
    apply(self, cfg, f(core), before);
    return;
  }
  auto snapshot = core.state();
  auto out = f(core);
  core.check_transition(snapshot);
  apply(self, cfg, std::move(out), before);
}

void flush(self_ptr self, const acceptor_config& cfg) {
  auto& st = self->state;
  st.flush_queued = false;
  auto sends = std::move(st.sends);
  st.sends.clear();
  auto writes = std::move(st.writes);
  st.writes = acceptor_writes{};
  // The value an accepted reply stands for: its learn vote (queued just
  // before it) carries it, or the state or this flush's writes hold it.
  auto value_of = [&](size_t i) -> const value* {
    auto a = std::get_if<accepted>(&sends[i].msg);
    if (a == nullptr)
      return nullptr;
    if (i > 0)
      if (auto l = std::get_if<learn>(&sends[i - 1].msg);
          l && l->slot == a->slot && l->bal == a->bal)
        return &l->val;
    for (auto& w : writes.accepted)
      if (w.slot == a->slot && w.bal == a->bal)
        return &w.val;
    auto s = st.core->find(a->slot);
    return s != nullptr && s->bal == a->bal ? &s->val : nullptr;
  };
  auto send_all = [&] {
    if (cfg.monitor)
      for (size_t i = 0; i < sends.size(); ++i)
        announce(self, cfg, sends[i], value_of(i));
    if (cfg.log->enabled())
      for (auto& o : sends)
        log_event(self, cfg, o);
    for (auto& o : sends)
      st.links.send(self, std::move(o));
  };
  if (cfg.break_sync_rule) {
    // TEST ONLY: replies overtake the writes they depend on.
    send_all();
    if (!writes.empty())
      cfg.storage->write(writes);
    return;
  }
  if (!writes.empty())
    cfg.storage->write(writes); // durable before any message leaves
  send_all();
}

} // namespace

caf::behavior acceptor_actor(caf::stateful_actor<acceptor_actor_state>* self,
                             acceptor_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  log_crashes(self, cfg.log, cfg.opts.id, "acceptor");
  auto& st = self->state;
  st.log = std::make_shared<acceptor_storage_log>(cfg.storage, cfg.decided);
  st.core.emplace(cfg.opts, cfg.storage->load(), st.log.get());
  st.links = peer_links{cfg.opts.id, cfg.simulator};
  for (auto& p : cfg.peers)
    st.links.update(p);
  step(self, cfg, [](acceptor_core& c) { return c.start(); });
  if (st.core->mode() != acceptor_mode::voting)
    self->delayed_send(self, ms(cfg.tick_ms), tick_atom::value);
  return {
    // -- phase 1 -------------------------------------------------------------
    [=](const prepare& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    // -- phase 2 -------------------------------------------------------------
    [=](const accept& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    // -- lost storage --------------------------------------------------------
    [=](tick_atom) {
      step(self, cfg, [](acceptor_core& c) { return c.tick(); });
      if (self->state.core->mode() != acceptor_mode::voting)
        self->delayed_send(self, ms(cfg.tick_ms), tick_atom::value);
    },
    [=](const state_query& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    [=](const state_reply& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    [=](const rejoin_prepare& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    [=](const rejoin_reply& msg) {
      step(self, cfg, [&](acceptor_core& c) { return c.handle(msg); });
    },
    [=](learned_atom, uint64_t upto) {
      step(self, cfg, [&](acceptor_core& c) { return c.learned(upto); });
    },
    // -- group commit --------------------------------------------------------
    [=](flush_atom) { flush(self, cfg); },
    // -- peers ---------------------------------------------------------------
    [=](peer_atom, const server_info& info) {
      auto& st = self->state;
      st.links.update(info);
      // Our own proposer (new, or restarted) may campaign once we vote.
      if (info.id == cfg.opts.id && info.proposer
          && st.core->mode() == acceptor_mode::voting)
        self->send(info.proposer, joined_atom::value, st.core->promised(),
                   st.core->meta().epoch);
    },
    [=](sim_atom, const caf::actor& sim) {
      self->state.links.set_simulator(sim);
    },
    [=](status_atom) {
      auto& c = *self->state.core;
      return std::make_tuple(c.promised(), status_of(c.mode()),
                             c.waiting_for());
    },
  };
}

} // namespace cafchat
