#include "actors/common/client_key.hpp"
#include "tools/bench/baseline.hpp"

#include <algorithm>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/learner/chat_state.hpp"
#include "actors/session/client_session.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"
#include "messages/control.hpp"

namespace cafchat::bench {

namespace {

struct sequencer_state {
  static inline const char* name = "sequencer";
  chat_state chat;
  std::vector<chat_entry> history;
  std::vector<chat_entry> batch; ///< Applied, not yet streamed.
  std::vector<caf::actor> live;
  uint64_t slot = 0;
  bool flush_queued = false;
};

/// Orders submits in arrival order; streams them in batches: a flush queued
/// behind the mailbox sends everything that arrived together.
caf::behavior sequencer(caf::stateful_actor<sequencer_state>* self) {
  drop_unexpected(self);
  return {
    [=](const submit& msg) {
      auto& st = self->state;
      auto added = st.chat.apply(++st.slot, value::of(msg.commands));
      st.batch.insert(st.batch.end(), added.begin(), added.end());
      if (!st.flush_queued) {
        st.flush_queued = true;
        self->send(self, flush_atom::value);
      }
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.flush_queued = false;
      if (st.batch.empty())
        return;
      st.history.insert(st.history.end(), st.batch.begin(), st.batch.end());
      auto msg = caf::make_message(delivered{std::move(st.batch), {}});
      st.batch.clear();
      for (auto& s : st.live)
        self->send(s, msg);
    },
    [=](const history_request& req) {
      auto& st = self->state;
      history_reply reply;
      auto first = std::max<uint64_t>(req.first_index, 1);
      for (auto i = first; i <= st.history.size()
                           && reply.entries.size() < req.max_entries;
           ++i)
        reply.entries.push_back(st.history[i - 1]);
      reply.live = first + reply.entries.size() > st.history.size();
      if (reply.live)
        st.live.push_back(caf::actor_cast<caf::actor>(self->current_sender()));
      return reply;
    },
    [=](unsub_atom) {
      auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto& live = self->state.live;
      live.erase(std::remove_if(live.begin(), live.end(),
                                [&](auto& a) { return a.address() == who; }),
                 live.end());
    },
  };
}

struct front_state {
  static inline const char* name = "baseline_front";
  caf::actor seq;
  server_info info;
};

caf::behavior front(caf::stateful_actor<front_state>* self, caf::actor lb,
                    uint32_t max_text_bytes) {
  drop_unexpected(self);
  auto& st = self->state;
  st.seq = self->spawn<caf::linked>(sequencer);
  st.info.id = 1;
  st.info.incarnation = 1;
  st.info.front = caf::actor_cast<caf::actor>(self);
  self->request(lb, std::chrono::seconds(5),
                register_server{st.info, caf::actor_cast<caf::actor>(self)})
    .then([](bool) {}, [](caf::error&) {});
  return {
    [=](const hello& msg) {
      session_config sc;
      sc.server = 1;
      sc.client = client_id_of(msg.key);
      sc.name = msg.name;
      sc.client_actor = msg.client_actor;
      sc.proposer = self->state.seq; // orders ...
      sc.learner = self->state.seq;  // ... and streams
      sc.max_text_bytes = max_text_bytes;
      sc.resume_after = msg.resume_after;
      sc.max_commands = 0; // a baseline: no limits
      auto s = self->spawn<caf::linked>(client_session, sc);
      welcome w;
      w.server = 1;
      w.session = s;
      w.max_text_bytes = max_text_bytes;
      w.client = sc.client;
      return w;
    },
    [=](status_atom) {
      server_status s;
      s.id = 1;
      s.alive = true;
      s.role = server_role::sequencer;
      return s;
    },
  };
}

} // namespace

caf::actor spawn_baseline(caf::actor_system& sys, const caf::actor& lb,
                          uint32_t max_text_bytes) {
  return sys.spawn(front, lb, max_text_bytes);
}

} // namespace cafchat::bench
