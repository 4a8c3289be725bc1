#include "actors/acceptor/acceptor_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/acceptor/acceptor_core.hpp"
#include "actors/common/actor_util.hpp"
#include "messages/atoms.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<acceptor_actor_state>*;

/// Runs `f` on the core, checking invariants around it when asked to.
template <class F>
acceptor_output run_core(self_ptr self, const acceptor_config& cfg, F f) {
  auto& core = *self->state.core;
  if (!cfg.check_invariants)
    return f(core);
  auto before = core.state();
  auto out = f(core);
  core.check_transition(before);
  return out;
}

/// Adds the accepted slots a promise needs from below the memory window.
void add_from_storage(const acceptor_config& cfg,
                      acceptor_output& out) {
  auto [first, last] = out.from_storage;
  auto p = std::get_if<promise>(&out.reply);
  if (p == nullptr || first == 0 || last < first)
    return;
  std::map<uint64_t, accepted_slot> merged;
  for (auto& a : cfg.storage->accepted_range(first, last - first + 1))
    merged[a.slot] = std::move(a);
  for (auto& a : p->accepted) {
    auto i = merged.find(a.slot);
    if (i == merged.end() || a.bal >= i->second.bal)
      merged[a.slot] = std::move(a);
  }
  p->accepted.clear();
  for (auto& [slot, a] : merged)
    p->accepted.push_back(std::move(a));
}

void buffer(self_ptr self, acceptor_output&& out, server_id proposer,
            std::optional<learn> vote, bool vote_to_all) {
  auto& st = self->state;
  st.writes.merge(std::move(out.writes));
  // Tell the learners (our own, or with learn = votes all of them) what we
  // accepted; our own learner then needs only a bare decide. The vote goes
  // out before the accepted reply: our own learner is local, so it holds the
  // vote before the leader can have counted this acceptance and decided.
  if (vote && std::holds_alternative<accepted>(out.reply))
    st.replies.push_back({vote_to_all ? all_servers : vote->from,
                          std::move(*vote)});
  std::visit(
    [&](auto& reply) {
      using T = std::decay_t<decltype(reply)>;
      if constexpr (!std::is_same_v<T, std::monostate>)
        st.replies.push_back({proposer, std::move(reply)});
    },
    out.reply);
  if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

void flush(self_ptr self, const acceptor_config& cfg) {
  auto& st = self->state;
  st.flush_queued = false;
  if (!st.writes.empty()) {
    cfg.storage->write(st.writes); // durable before any reply leaves
    st.writes = acceptor_writes{};
  }
  auto replies = std::move(st.replies);
  st.replies.clear();
  for (auto& r : replies)
    st.links.send(self, std::move(r));
}

void log_reply(self_ptr self, const acceptor_config& cfg,
               const acceptor_output& out) {
  if (!cfg.log->enabled())
    return;
  auto t = now_ms(self);
  if (auto p = std::get_if<promise>(&out.reply))
    cfg.log->event(t, cfg.id, "promise")
      .field("ballot", p->bal)
      .field("to", p->bal.node)
      .field("first_slot", p->first_slot)
      .field("reported", static_cast<uint64_t>(p->accepted.size()));
  else if (auto a = std::get_if<accepted>(&out.reply))
    cfg.log->event(t, cfg.id, "accepted")
      .field("ballot", a->bal)
      .field("slot", a->slot);
  else if (auto n = std::get_if<nack>(&out.reply))
    cfg.log->event(t, cfg.id, "rejection")
      .field("ballot", n->rejected)
      .field("higher", n->promised)
      .field("slot", n->slot)
      .field("to", n->rejected.node);
}

void log_mode(self_ptr self, const acceptor_config& cfg, const char* why) {
  if (cfg.log->enabled())
    cfg.log->event(now_ms(self), cfg.id, "acceptor_mode")
      .field("mode", to_string(self->state.core->mode()))
      .field("why", why);
}

/// While probing, asks every other acceptor whether it holds state.
void probe(self_ptr self, const acceptor_config& cfg) {
  auto& st = self->state;
  if (st.core->mode() == acceptor_mode::probing) {
    st.core->probe_tick(cfg.probe_ticks);
    if (st.core->mode() == acceptor_mode::voting)
      log_mode(self, cfg, "no peer holding state answered");
  }
  if (st.core->mode() == acceptor_mode::probing)
    for (auto id : cfg.servers)
      if (id != cfg.id)
        st.links.send(self, outgoing{id, state_query{cfg.id, cfg.incarnation}});
  if (st.core->mode() != acceptor_mode::voting)
    self->delayed_send(self, ms(cfg.tick_ms * 5), tick_atom::value);
}

} // namespace

caf::behavior acceptor_actor(caf::stateful_actor<acceptor_actor_state>* self,
                             acceptor_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  log_crashes(self, cfg.log, cfg.id, "acceptor");
  self->state.core.emplace(cfg.id, cfg.storage->load(),
                           std::max<size_t>(1, cfg.servers.size()),
                           cfg.incarnation, cfg.fresh_store);
  self->state.core->break_accept_rule(cfg.break_accept_rule);
  self->state.links = peer_links{cfg.id, cfg.simulator};
  for (auto& p : cfg.peers)
    self->state.links.update(p);
  if (self->state.core->mode() != acceptor_mode::voting) {
    log_mode(self, cfg, "no state at start");
    self->send(self, tick_atom::value);
  }
  return {
    // -- phase 1 -------------------------------------------------------------
    [=](const prepare& msg) {
      auto out = run_core(self, cfg,
                          [&](acceptor_core& c) { return c.handle(msg); });
      add_from_storage(cfg, out);
      log_reply(self, cfg, out);
      buffer(self, std::move(out), msg.bal.node, std::nullopt, false);
    },
    // -- phase 2 -------------------------------------------------------------
    [=](const accept& msg) {
      auto out = run_core(self, cfg,
                          [&](acceptor_core& c) { return c.handle(msg); });
      log_reply(self, cfg, out);
      // An accept from our own proposer: it leads at this ballot, and its
      // decide brings our learner the value in full. A vote to ourselves
      // would only copy the batch (unless learn = votes tells everyone).
      std::optional<learn> vote;
      if (cfg.learn_votes || msg.bal.node != cfg.id)
        vote = learn{msg.bal, msg.slot, cfg.id, msg.val};
      buffer(self, std::move(out), msg.bal.node, std::move(vote),
             cfg.learn_votes);
    },
    // -- lost state ----------------------------------------------------------
    [=](tick_atom) { probe(self, cfg); },
    [=](const state_query& msg) {
      auto reply = self->state.core->handle(msg);
      self->state.links.send(self, outgoing{msg.from, reply});
    },
    [=](const state_reply& msg) {
      auto before = self->state.core->mode();
      self->state.core->handle(msg);
      if (self->state.core->mode() != before)
        log_mode(self, cfg, msg.vouched     ? "a peer vouched for it"
                            : msg.has_state ? "a peer holds state"
                                            : "every peer asked is new");
    },
    [=](learned_atom, uint64_t upto) {
      auto before = self->state.core->mode();
      auto w = self->state.core->learned(upto);
      if (!w.empty())
        cfg.storage->write(w);
      if (self->state.core->mode() != before)
        log_mode(self, cfg, "an instance begun after the restart completed");
    },
    // -- group commit --------------------------------------------------------
    [=](flush_atom) { flush(self, cfg); },
    // -- peers ---------------------------------------------------------------
    [=](peer_atom, const server_info& info) {
      self->state.links.update(info);
    },
    [=](sim_atom, const caf::actor& sim) {
      self->state.links.set_simulator(sim);
    },
    [=](status_atom) { return self->state.core->promised(); },
  };
}

} // namespace cafchat
