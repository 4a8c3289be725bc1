#include "actors/learner/learner_actor.hpp"

#include <algorithm>
#include <optional>

#include "caf/event_based_actor.hpp"

#include "actors/common/peer_auth.hpp"
#include "actors/common/actor_util.hpp"
#include "actors/common/core_step.hpp"
#include "actors/learner/chat_state.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<learner_actor_state>*;

/// The learner as core_step.hpp drives it: delivered slots are its writes.
struct learner_driver : driver_base<learner_core, self_ptr, learner_config> {
  static constexpr bool group_commit = false;
  void stepped(const learner_output&) {}
  void sending(const delivered_slots&, const std::vector<outgoing>&) {}

  /// New entries for the subscribed sessions, sent after the core's own
  /// messages: the proposer hears that the prefix moved (and widens its
  /// window) before the clients, whose next messages then meet a free
  /// window and form full batches (sessions first gave about 20 % more,
  /// smaller slots per message in caf-bench at 10 x 64).
  std::optional<caf::message> to_sessions;

  /// Applies delivered slots to the chat history and persists both in one
  /// write; the new entries wait in to_sessions for sent().
  void persist(delivered_slots& out) {
    auto& st = self->state;
    learner_writes w;
    std::vector<std::pair<uint64_t, uint64_t>> withdrawn;
    for (auto& d : out.slots) {
      auto added = st.chat.apply(d.slot, d.val, &w.clients, &withdrawn);
      w.entries.insert(w.entries.end(), std::make_move_iterator(added.begin()),
                       std::make_move_iterator(added.end()));
    }
    w.slots = std::move(out.slots);
    cfg.storage->write(w);
    if (cfg.log->enabled())
      cfg.log->event(now_ms(self), cfg.opts.id, "delivered")
        .field("first_slot", w.slots.front().slot)
        .field("last_slot", w.slots.back().slot)
        .field("entries", static_cast<uint64_t>(w.entries.size()));
    if ((w.entries.empty() && withdrawn.empty()) || st.live.empty())
      return;
    to_sessions = caf::make_message(delivered{std::move(w.entries),
                                              std::move(withdrawn)});
  }

  void sent() {
    if (to_sessions)
      for (auto& s : self->state.live)
        self->send(s, *to_sessions);
  }
};

learner_driver drive(self_ptr self, const learner_config& cfg) {
  return {{self, cfg}, {}};
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
  st.core.emplace(cfg.opts, saved.applied_upto, cfg.storage.get(),
                  saved.last_time_ms);
  st.chat = chat_state{saved.history_size,
                       chat_state::client_table(saved.clients.begin(),
                                                saved.clients.end()),
                       saved.last_time_ms};
  if (cfg.break_time_rule)
    st.chat.break_time_rule();
  st.links = peer_links{cfg.opts.id, cfg.simulator};
  for (auto& p : cfg.peers)
    st.links.update(p);
  self->set_down_handler(
    [=](const caf::down_msg& dm) { unsubscribe(self, dm.source); });
  start_ticks(drive(self, cfg), cfg.tick_ms);
  return {
    // -- learning ------------------------------------------------------------
    [=](const decide& msg) { step(drive(self, cfg), msg); },
    [=](const learn& msg) { step(drive(self, cfg), msg); },
    [=](const chosen_hint& msg) { step(drive(self, cfg), msg); },
    // -- catch-up ------------------------------------------------------------
    [=](tick_atom) {
      if (!admit(self, msg_class::local_only, "tick")) return;
      tick(drive(self, cfg), cfg.tick_ms);
    },
    [=](const catchup_request& msg) { step(drive(self, cfg), msg); },
    [=](const catchup_reply& msg) { step(drive(self, cfg), msg); },
    // -- sessions ------------------------------------------------------------
    [=](const history_request& msg) -> caf::result<history_reply> {
      if (!admit(self, msg_class::local_only, "history_request"))
        return caf::sec::invalid_argument;
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
      if (!admit(self, msg_class::local_only, "peer_atom")) return;
      self->state.links.update(info);
      step(drive(self, cfg),
           [&](learner_core& c) { return c.announced(info.id); });
    },
    [=](sim_atom, const caf::actor& sim) {
      if (!admit(self, msg_class::local_only, "sim_atom")) return;
      self->state.links.set_simulator(sim);
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
