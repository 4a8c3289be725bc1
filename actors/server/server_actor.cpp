#include "actors/server/server_actor.hpp"

#include <memory>

#include "caf/event_based_actor.hpp"

#include "actors/acceptor/acceptor_actor.hpp"
#include "actors/common/actor_util.hpp"
#include "actors/common/client_key.hpp"
#include "actors/common/peer_auth.hpp"
#include "actors/learner/learner_actor.hpp"
#include "actors/proposer/proposer_actor.hpp"
#include "actors/session/client_session.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

namespace cafchat {

acceptor_config acceptor_config_for(const server_params& p, server_id id,
                                    std::shared_ptr<acceptor_storage> storage) {
  p.validate();
  acceptor_config ac;
  ac.opts = p.acceptor;
  ac.opts.id = id;
  ac.opts.servers = p.servers;
  ac.tick_ms = p.tick_ms;
  ac.storage = std::move(storage);
  ac.check_invariants = p.check_invariants;
  ac.break_sync_rule = p.break_sync_rule;
  return ac;
}

learner_config learner_config_for(const server_params& p, server_id id,
                                  std::shared_ptr<learner_storage> storage) {
  p.validate();
  learner_config lc;
  lc.opts = p.learner;
  lc.opts.id = id;
  lc.opts.servers = p.servers;
  lc.tick_ms = p.tick_ms;
  lc.storage = std::move(storage);
  lc.check_invariants = p.check_invariants;
  lc.history_chunk_max = p.history_chunk;
  lc.break_time_rule = p.break_time_rule;
  return lc;
}

proposer_config proposer_config_for(const server_params& p, server_id id,
                                    uint64_t incarnation) {
  p.validate();
  proposer_config pc;
  pc.opts = p.proposer;
  pc.opts.id = id;
  pc.opts.servers = p.servers;
  // Every incarnation draws other timeouts than the last.
  pc.opts.break_time_rule = p.break_time_rule;
  pc.opts.seed = p.proposer.seed + incarnation * 7919 + id;
  pc.tick_ms = p.tick_ms;
  pc.check_invariants = p.check_invariants;
  return pc;
}

namespace {

using self_ptr = caf::stateful_actor<server_state>*;

void spawn_roles(self_ptr self, const server_config& cfg) {
  auto& p = cfg.params;
  auto& info = self->state.info;
  info.id = cfg.id;
  info.incarnation = cfg.incarnation;
  info.front = caf::actor_cast<caf::actor>(self);
  info.host = cfg.host;
  info.port = cfg.port;

  auto ac = acceptor_config_for(p, cfg.id, cfg.storage.acceptor);
  ac.opts.incarnation = cfg.incarnation;
  ac.opts.founder = cfg.founder;
  ac.decided = cfg.storage.learner;
  ac.monitor = cfg.monitor;
  ac.log = cfg.log;
  ac.simulator = cfg.simulator;
  ac.peers = cfg.peers;
  info.acceptor = self->spawn<caf::linked>(acceptor_actor, ac);

  auto lc = learner_config_for(p, cfg.id, cfg.storage.learner);
  lc.log = cfg.log;
  lc.simulator = cfg.simulator;
  lc.peers = cfg.peers;
  info.learner = self->spawn<caf::linked>(learner_actor, lc);

  auto pc = proposer_config_for(p, cfg.id, cfg.incarnation);
  pc.storage = cfg.storage.acceptor;
  pc.monitor = cfg.monitor;
  pc.wall_clock = cfg.wall_clock;
  pc.log = cfg.log;
  pc.simulator = cfg.simulator;
  pc.peers = cfg.peers;
  info.proposer = self->spawn<caf::linked>(proposer_actor, pc);

  // Every role reaches its own server through the peer table too (the
  // roles of one server talk to each other like peers).
  for (auto& r : {info.acceptor, info.proposer, info.learner})
    self->send(r, peer_atom::value, info);
}

void reply_status(self_ptr self, caf::response_promise rp) {
  auto& info = self->state.info;
  auto timeout = std::chrono::seconds(2);
  auto fail = [=](caf::error& e) mutable { rp.deliver(e); };
  self->request(info.proposer, timeout, status_atom::value)
    .then(
      [=](server_status& ps) mutable {
        self->request(self->state.info.learner, timeout, status_atom::value)
          .then(
            [=](server_status& ls) mutable {
              auto st = ps;
              st.delivered_upto = ls.delivered_upto;
              st.history_size = ls.history_size;
              st.sessions = self->state.sessions;
              self
                ->request(self->state.info.acceptor, timeout,
                          status_atom::value)
                .then(
                  [=](const ballot&, acceptor_status mode,
                      std::string& waiting) mutable {
                    auto full = st;
                    full.acceptor = mode;
                    full.waiting = std::move(waiting);
                    rp.deliver(full);
                  },
                  fail);
            },
            fail);
      },
      fail);
}

} // namespace

caf::behavior server_actor(caf::stateful_actor<server_state>* self,
                           server_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  spawn_roles(self, cfg);
  if (cfg.log->enabled())
    cfg.log->event(now_ms(self), cfg.id, "server_started")
      .field("incarnation", cfg.incarnation);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.session_of.find(dm.source);
    if (i == st.session_of.end())
      return;
    if (st.sessions > 0)
      --st.sessions;
    auto c = st.by_client.find(i->second.client);
    if (c != st.by_client.end() && c->second == dm.source)
      st.by_client.erase(c);
    auto n = st.per_node.find(i->second.node);
    if (n != st.per_node.end() && --n->second == 0)
      st.per_node.erase(n);
    st.session_of.erase(i);
  });
  return {
    [=](hello msg) -> caf::result<welcome> {
      if (!admit(self, msg_class::client_request, "hello"))
        return make_chat_error(chat_errc::not_permitted, "hello refused");
      // With TLS, a client's name is the one its certificate gives it.
      if (auto who = sender_principal(self); who.chats())
        msg.name = who.name;
      auto& st = self->state;
      auto& lim = cfg.params.limits;
      auto refuse = [&](chat_errc code, const std::string& why,
                        const char* what) {
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), cfg.id, "session_refused")
            .field("why", what);
        return make_chat_error(code, why);
      };
      if (auto no = check_client_claim(msg.name, msg.key, msg.client_actor,
                                       "a hello"))
        return refuse(no->code, no->why, no->what);
      auto client = client_id_of(msg.key);
      // The same client again (a reconnect): its old session goes, and
      // does not count against the limits.
      bool replacing = false;
      if (auto old = st.by_client.find(client); old != st.by_client.end()) {
        if (auto s = st.session_of.find(old->second);
            s != st.session_of.end()) {
          self->send(s->second.actor, unsub_atom::value);
          replacing = true;
        }
      }
      auto node = msg.client_actor.node();
      bool remote = node != self->node();
      if (!replacing && lim.sessions_per_server > 0
          && st.sessions >= lim.sessions_per_server)
        return refuse(chat_errc::over_limit,
                      "server " + std::to_string(cfg.id) + " has "
                        + std::to_string(st.sessions)
                        + " sessions, its limit ([limits] "
                          "sessions_per_server)",
                      "sessions_per_server");
      if (!replacing && remote && lim.sessions_per_connection > 0
          && st.per_node[node] >= lim.sessions_per_connection) {
        if (st.per_node[node] == 0)
          st.per_node.erase(node);
        return refuse(chat_errc::over_limit,
                      "this connection has "
                        + std::to_string(lim.sessions_per_connection)
                        + " sessions on server " + std::to_string(cfg.id)
                        + ", its limit ([limits] sessions_per_connection)",
                      "sessions_per_connection");
      }
      auto& info = st.info;
      session_config sc;
      sc.server = cfg.id;
      sc.client = client;
      sc.name = msg.name;
      sc.client_actor = msg.client_actor;
      sc.proposer = info.proposer;
      sc.learner = info.learner;
      sc.max_text_bytes = cfg.params.max_text_bytes;
      sc.resume_after = msg.resume_after;
      sc.history_chunk = cfg.params.history_chunk;
      sc.max_commands = lim.commands_per_submit;
      sc.rate_per_s = lim.rate_per_s;
      sc.rate_burst = lim.rate_burst;
      sc.send_queue_max_bytes = lim.send_queue_max_bytes;
      sc.log = cfg.log;
      sc.front = caf::actor_cast<caf::actor>(self);
      auto s = self->spawn(client_session, sc);
      self->monitor(s);
      ++st.sessions;
      st.session_of[s.address()] = {client, remote ? node : caf::node_id{}, s};
      st.by_client[client] = s.address();
      if (remote)
        ++st.per_node[node];
      if (cfg.log->enabled())
        cfg.log->event(now_ms(self), cfg.id, "session_opened")
          .field("client", client)
          .field("name", msg.name)
          .field("resume_after", msg.resume_after);
      welcome w;
      w.server = cfg.id;
      w.session = s;
      w.max_text_bytes = cfg.params.max_text_bytes;
      w.client = client;
      w.send_queue_max_bytes = lim.send_queue_max_bytes;
      w.max_commands = lim.commands_per_submit;
      w.rate_per_s = lim.rate_per_s;
      w.rate_burst = lim.rate_burst;
      return w;
    },
    [=](info_atom) -> caf::result<server_info> {
      if (!admit(self, msg_class::local_only, "info"))
        return make_chat_error(chat_errc::not_permitted, "info refused");
      return self->state.info;
    },
    [=](peer_atom, const server_info& info) {
      if (!admit(self, msg_class::local_only, "peer_atom"))
        return;
      if (info.id == cfg.id)
        return;
      auto& me = self->state.info;
      for (auto& r : {me.acceptor, me.proposer, me.learner})
        self->send(r, peer_atom::value, info);
    },
    [=](sim_atom, const caf::actor& sim) {
      if (!admit(self, msg_class::local_only, "sim_atom"))
        return;
      auto& me = self->state.info;
      for (auto& r : {me.acceptor, me.proposer, me.learner})
        self->send(r, sim_atom::value, sim);
    },
    [=](status_atom) {
      auto rp = self->make_response_promise();
      reply_status(self, rp);
      return rp;
    },
    [=](skip_atom) -> caf::result<bool> {
      // The host hands the load balancer's request on (keeping its sender).
      if (!admit(self, msg_class::from_lb, "skip_slot"))
        return false;
      return relay<bool>(self, self->state.info.proposer, skip_atom::value);
    },
  };
}

} // namespace cafchat
