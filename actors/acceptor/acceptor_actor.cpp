#include "actors/acceptor/acceptor_actor.hpp"

#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/common/peer_auth.hpp"
#include "actors/common/actor_util.hpp"
#include "actors/common/core_step.hpp"
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

/// The acceptor as core_step.hpp drives it: outputs are group-committed.
struct acceptor_driver : driver_base<acceptor_core, self_ptr, acceptor_config> {
  static constexpr bool group_commit = true;
  held_output<acceptor_writes>* held() { return &self->state.held; }

  void stepped(const acceptor_output& out) {
    if (cfg.log->enabled())
      log_notes(self, cfg, out);
  }

  void persist(const acceptor_writes& w) {
    if (cfg.break_sync_rule)
      self->state.late = w; // TEST ONLY: written after the replies leave
    else
      cfg.storage->write(w);
  }

  void sending(const acceptor_writes& writes,
               const std::vector<outgoing>& sends) {
    // The value an accepted reply stands for: its learn vote (queued just
    // before it) carries it, or this flush's writes or the state hold it.
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
      auto s = core().find(a->slot);
      return s != nullptr && s->bal == a->bal ? &s->val : nullptr;
    };
    if (cfg.monitor)
      for (size_t i = 0; i < sends.size(); ++i)
        announce(self, cfg, sends[i], value_of(i));
    if (cfg.log->enabled())
      for (auto& o : sends)
        log_event(self, cfg, o);
  }
};

acceptor_driver drive(self_ptr self, const acceptor_config& cfg) {
  return {{self, cfg}};
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
  step(drive(self, cfg), [](acceptor_core& c) { return c.start(); });
  start_ticks(drive(self, cfg), cfg.tick_ms);
  return {
    // -- phase 1 -------------------------------------------------------------
    [=](const prepare& msg) { step(drive(self, cfg), msg); },
    // -- phase 2 -------------------------------------------------------------
    [=](const accept& msg) { step(drive(self, cfg), msg); },
    // -- lost storage --------------------------------------------------------
    [=](tick_atom) {
      if (!admit(self, msg_class::local_only, "tick")) return;
      tick(drive(self, cfg), cfg.tick_ms);
    },
    [=](const state_query& msg) { step(drive(self, cfg), msg); },
    [=](const state_reply& msg) { step(drive(self, cfg), msg); },
    [=](const rejoin_prepare& msg) { step(drive(self, cfg), msg); },
    [=](const rejoin_reply& msg) { step(drive(self, cfg), msg); },
    [=](const learned_for_acceptor& msg) { step(drive(self, cfg), msg); },
    // -- group commit --------------------------------------------------------
    [=](flush_atom) {
      if (!admit(self, msg_class::local_only, "flush")) return;
      flush(drive(self, cfg));
      if (auto& late = self->state.late) {
        cfg.storage->write(*late); // TEST ONLY (break_sync_rule)
        late.reset();
      }
    },
    // -- peers ---------------------------------------------------------------
    [=](peer_atom, const server_info& info) {
      if (!admit(self, msg_class::local_only, "peer_atom")) return;
      self->state.links.update(info);
      step(drive(self, cfg),
           [&](acceptor_core& c) { return c.announced(info.id); });
    },
    [=](sim_atom, const caf::actor& sim) {
      if (!admit(self, msg_class::local_only, "sim_atom")) return;
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
