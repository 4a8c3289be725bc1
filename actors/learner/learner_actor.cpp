#include "actors/learner/learner_actor.hpp"

#include <algorithm>
#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/learner/chat_state.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<learner_actor_state>*;

/// Tells the local proposer and acceptor how far the chosen prefix reaches;
/// the proposer also learns the last entry's time (it stamps no batch
/// earlier).
void tell_learned(self_ptr self) {
  auto& st = self->state;
  auto upto = st.core->delivered_upto();
  if (st.proposer)
    self->send(st.proposer, learned_atom::value, upto, st.chat.last_time());
  if (st.acceptor)
    self->send(st.acceptor, learned_atom::value, upto);
}

/// Applies delivered slots, persists them, and streams the new entries.
void apply(self_ptr self, const learner_config& cfg, learner_output& out) {
  auto& st = self->state;
  for (auto& o : out.send)
    st.links.send(self, std::move(o));
  if (out.deliver.empty())
    return;
  learner_writes w;
  std::vector<std::pair<uint64_t, uint64_t>> withdrawn;
  for (auto& d : out.deliver) {
    auto added = st.chat.apply(d.slot, d.val, &w.clients, &withdrawn);
    w.entries.insert(w.entries.end(), std::make_move_iterator(added.begin()),
                     std::make_move_iterator(added.end()));
  }
  w.slots = std::move(out.deliver);
  cfg.storage->write(w);
  if (cfg.log->enabled())
    cfg.log->event(now_ms(self), cfg.opts.id, "delivered")
      .field("first_slot", w.slots.front().slot)
      .field("last_slot", w.slots.back().slot)
      .field("entries", static_cast<uint64_t>(w.entries.size()));
  tell_learned(self);
  if ((w.entries.empty() && withdrawn.empty()) || st.live.empty())
    return;
  auto msg = caf::make_message(delivered{std::move(w.entries),
                                         std::move(withdrawn)});
  for (auto& s : st.live)
    self->send(s, msg);
}

template <class F>
void step(self_ptr self, const learner_config& cfg, F f) {
  auto out = f(*self->state.core);
  if (cfg.check_invariants)
    self->state.core->check_invariants();
  apply(self, cfg, out);
}

void unsubscribe(self_ptr self, const caf::actor_addr& who) {
  auto& live = self->state.live;
  live.erase(std::remove_if(live.begin(), live.end(),
                            [&](const caf::actor& a) {
                              return a.address() == who;
                            }),
             live.end());
}

} // namespace

caf::behavior learner_actor(caf::stateful_actor<learner_actor_state>* self,
                            learner_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  log_crashes(self, cfg.log, cfg.opts.id, "learner");
  auto& st = self->state;
  auto saved = cfg.storage->load();
  st.core.emplace(cfg.opts, saved.applied_upto);
  st.chat = chat_state{saved.history_size,
                       chat_state::client_table(saved.clients.begin(),
                                                saved.clients.end()),
                       saved.last_time_ms};
  if (cfg.break_time_rule)
    st.chat.break_time_rule();
  st.links = peer_links{cfg.opts.id, cfg.simulator};
  for (auto& p : cfg.peers)
    st.links.update(p);
  st.proposer = cfg.proposer;
  if (st.proposer)
    self->send(st.proposer, learned_atom::value, saved.applied_upto,
               saved.last_time_ms);
  self->set_down_handler(
    [=](const caf::down_msg& dm) { unsubscribe(self, dm.source); });
  self->delayed_send(self, ms(cfg.tick_ms), tick_atom::value);
  return {
    // -- learning ------------------------------------------------------------
    [=](const decide& msg) {
      step(self, cfg, [&](learner_core& c) { return c.handle(msg); });
    },
    [=](const learn& msg) {
      step(self, cfg, [&](learner_core& c) { return c.handle(msg); });
    },
    [=](chosen_atom, uint64_t upto, server_id leader) {
      step(self, cfg, [&](learner_core& c) { return c.hint(upto, leader); });
    },
    // -- catch-up ------------------------------------------------------------
    [=](tick_atom) {
      step(self, cfg, [](learner_core& c) { return c.tick(); });
      self->delayed_send(self, ms(cfg.tick_ms), tick_atom::value);
    },
    [=](const catchup_request& msg) {
      auto n = std::min(msg.max_slots, cfg.opts.catchup_max_slots);
      catchup_reply reply{cfg.opts.id, cfg.storage->decided(msg.first_slot, n),
                          self->state.core->delivered_upto(), msg.sent};
      // Then what we hold above our own hole, if it continues the run: a
      // peer must not wait for what only our buffer has.
      auto next = msg.first_slot + reply.slots.size();
      if (reply.slots.size() < n) {
        auto more = self->state.core->buffered(next, n - reply.slots.size());
        reply.slots.insert(reply.slots.end(),
                           std::make_move_iterator(more.begin()),
                           std::make_move_iterator(more.end()));
      }
      self->state.links.send(self, outgoing{msg.from, std::move(reply)});
    },
    [=](const catchup_reply& msg) {
      step(self, cfg, [&](learner_core& c) { return c.handle(msg); });
    },
    // -- sessions ------------------------------------------------------------
    [=](const history_request& msg) {
      auto& st = self->state;
      auto n = std::min(msg.max_entries, cfg.history_chunk_max);
      history_reply reply;
      reply.entries = cfg.storage->history(msg.first_index, n);
      auto next = std::max<uint64_t>(msg.first_index, 1) + reply.entries.size();
      reply.live = next > st.chat.size();
      reply.client_seq = st.chat.last_seq(msg.client);
      reply.history_size = st.chat.size();
      if (reply.live) {
        auto who = caf::actor_cast<caf::actor>(self->current_sender());
        if (who) {
          unsubscribe(self, who.address());
          st.live.push_back(who);
          self->monitor(who);
        }
      }
      return reply;
    },
    [=](unsub_atom) {
      unsubscribe(self, caf::actor_cast<caf::actor_addr>(self->current_sender()));
    },
    // -- operator and peers --------------------------------------------------
    [=](peer_atom, const server_info& info) {
      self->state.links.update(info);
    },
    [=](sim_atom, const caf::actor& sim) {
      self->state.links.set_simulator(sim);
    },
    [=](bind_atom, const caf::actor& proposer, const caf::actor& acceptor) {
      auto& st = self->state;
      st.proposer = proposer;
      st.acceptor = acceptor;
      tell_learned(self);
    },
    [=](status_atom) {
      auto& st = self->state;
      server_status s;
      s.id = cfg.opts.id;
      s.delivered_upto = st.core->delivered_upto();
      s.history_size = st.chat.size();
      s.sessions = static_cast<uint32_t>(st.live.size());
      return s;
    },
  };
}

} // namespace cafchat
