#include "actors/load_balancer/load_balancer.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/client_key.hpp"
#include "actors/common/peer_auth.hpp"
#include "actors/session/client_session.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<load_balancer_state>*;

std::vector<server_id> missing(self_ptr self) {
  std::vector<server_id> xs;
  for (auto& [id, e] : self->state.servers)
    if (!e.registered)
      xs.push_back(id);
  return xs;
}

void log(self_ptr self, const load_balancer_config& cfg, const char* what,
         server_id id, uint64_t n = 0) {
  if (cfg.log->enabled())
    cfg.log->event(now_ms(self), 0, what).field("id", id).field("n", n);
}

/// The live server with the fewest clients, avoiding `failed` if possible;
/// among equally loaded servers the leader, then the lowest id.
server_id pick(self_ptr self, server_id failed) {
  auto& st = self->state;
  server_id best = 0;
  uint32_t best_load = 0;
  for (int pass = 0; pass < 2 && best == 0; ++pass)
    for (auto& [id, e] : st.servers) {
      if (!e.alive || (pass == 0 && id == failed))
        continue;
      if (best == 0 || e.clients < best_load
          || (e.clients == best_load && id == st.leader)) {
        best = id;
        best_load = e.clients;
      }
    }
  return best;
}

/// Remembers who leads, from a server's status.
void note_leader(self_ptr self, const server_status& s) {
  if (s.alive && s.role == server_role::leader)
    self->state.leader = s.id;
  else if (self->state.leader == s.id)
    self->state.leader = 0;
}

/// Asks every live server about itself, to know who leads.
void poll_leader(self_ptr self) {
  for (auto& [id, e] : self->state.servers) {
    if (!e.alive || !e.host)
      continue;
    self->request(e.host, std::chrono::seconds(1), status_atom::value)
      .then([=](const server_status& s) { note_leader(self, s); },
            [](caf::error&) {});
  }
}

void place(self_ptr self, uint64_t client, const std::string& name,
           const caf::actor& actor, server_id server) {
  auto& st = self->state;
  auto i = st.clients.find(client);
  if (i != st.clients.end()) {
    auto old = st.servers.find(i->second.server);
    if (old != st.servers.end() && old->second.clients > 0)
      --old->second.clients;
    // The same client (same key) from a new actor: a restarted caf-chat.
    if (actor && i->second.actor != actor)
      self->monitor(actor);
  } else if (actor) {
    self->monitor(actor);
  }
  st.clients[client] = {name, server, actor};
  st.names.claim(name, client); // checked free (or ours) by the caller
  ++st.servers[server].clients;
}

/// Collects every host's status into one cluster_view.
void gather_status(self_ptr self, caf::response_promise rp) {
  struct pending {
    cluster_view view;
    size_t waiting = 0;
    caf::response_promise rp;
  };
  auto& st = self->state;
  auto acc = std::make_shared<pending>();
  acc->rp = rp;
  acc->view.ready = st.ready;
  for (auto& [id, c] : st.clients)
    acc->view.clients.push_back({id, c.name, c.server});
  auto finish = [acc] {
    if (--acc->waiting == 0) {
      std::sort(acc->view.servers.begin(), acc->view.servers.end(),
                [](auto& a, auto& b) { return a.id < b.id; });
      acc->rp.deliver(acc->view);
    }
  };
  for (auto& [id, e] : st.servers) {
    if (!e.host) {
      server_status s;
      s.id = id;
      s.role = server_role::unregistered;
      acc->view.servers.push_back(s);
      continue;
    }
    ++acc->waiting;
    auto sid = id;
    auto clients = e.clients;
    self->request(e.host, std::chrono::seconds(2), status_atom::value)
      .then(
        [=](server_status& s) {
          s.sessions = s.alive ? s.sessions : 0;
          note_leader(self, s);
          acc->view.servers.push_back(s);
          finish();
        },
        [=](caf::error&) {
          server_status s;
          s.id = sid;
          s.role = server_role::unreachable;
          s.sessions = clients;
          acc->view.servers.push_back(s);
          finish();
        });
  }
  if (acc->waiting == 0) {
    ++acc->waiting;
    finish();
  }
}

} // namespace

caf::behavior load_balancer(caf::stateful_actor<load_balancer_state>* self,
                            load_balancer_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  for (auto id : cfg.servers)
    self->state.servers[id];
  if (cfg.leader_poll_ms > 0)
    self->delayed_send(self, ms(cfg.leader_poll_ms), tick_atom::value);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [id, e] : st.servers)
      if (e.alive && e.info.front && dm.source == e.info.front.address()) {
        e.alive = false;
        e.clients = 0;
        log(self, cfg, "server_down", id);
      }
    for (auto i = st.clients.begin(); i != st.clients.end();)
      if (i->second.actor && dm.source == i->second.actor.address()) {
        auto s = st.servers.find(i->second.server);
        if (s != st.servers.end() && s->second.clients > 0)
          --s->second.clients;
        st.names.release(i->first);
        i = st.clients.erase(i);
      } else {
        ++i;
      }
  });
  return {
    [=](const register_server& msg) -> caf::result<bool> {
      if (!admit(self, msg_class::register_server, "register_server",
                 msg.info.id))
        return make_chat_error(chat_errc::not_permitted,
                               "only server " + std::to_string(msg.info.id)
                                 + " registers server "
                                 + std::to_string(msg.info.id));
      auto& st = self->state;
      auto i = st.servers.find(msg.info.id);
      if (i == st.servers.end()) {
        log(self, cfg, "refused_server", msg.info.id);
        return make_chat_error(chat_errc::unknown_server,
                               "server id " + std::to_string(msg.info.id)
                                 + " is not in the configuration (known: "
                                 + id_list(cfg.servers) + ")");
      }
      auto& e = i->second;
      if (e.alive && e.info.incarnation > msg.info.incarnation)
        return false; // a late registration of an older incarnation
      if (e.info.front && e.info.front != msg.info.front)
        self->demonitor(e.info.front);
      e.info = msg.info;
      e.host = msg.host;
      e.registered = true;
      e.alive = true;
      e.clients = 0;
      for (auto& [cid, c] : st.clients)
        if (c.server == msg.info.id)
          ++e.clients;
      self->monitor(msg.info.front);
      log(self, cfg, "server_registered", msg.info.id, msg.info.incarnation);
      if (!st.ready && missing(self).empty()) {
        st.ready = true;
        log(self, cfg, "ready", 0);
      }
      return true;
    },
    [=](assign_request msg) -> caf::result<assignment> {
      if (!admit(self, msg_class::client_request, "assign_request"))
        return make_chat_error(chat_errc::not_permitted, "refused");
      if (auto who = sender_principal(self); who.chats())
        msg.name = who.name;
      auto& st = self->state;
      if (auto no = check_client_claim(msg.name, msg.key, msg.client_actor,
                                       "an assign_request"))
        return make_chat_error(no->code, no->why);
      auto client = client_id_of(msg.key);
      if (cfg.max_clients > 0 && st.clients.size() >= cfg.max_clients
          && st.clients.count(client) == 0) {
        log(self, cfg, "refused_client", 0, client);
        return make_chat_error(chat_errc::over_limit,
                               "the cluster has "
                                 + std::to_string(st.clients.size())
                                 + " clients, its limit ([limits] "
                                   "sessions_per_server times the servers)");
      }
      if (auto holder = st.names.holder(msg.name);
          holder != 0 && holder != client) {
        log(self, cfg, "name_in_use", 0, client);
        return make_chat_error(chat_errc::name_in_use,
                               std::string{name_registry::in_use}
                                 + ": another client is connected as '"
                                 + msg.name + "'");
      }
      if (!st.ready)
        return make_chat_error(chat_errc::not_ready,
                               "waiting for servers " + id_list(missing(self))
                                 + " to register");
      auto id = pick(self, msg.failed);
      if (id == 0)
        return make_chat_error(chat_errc::no_server, "no server is up");
      place(self, client, msg.name, msg.client_actor, id);
      log(self, cfg, "client_placed", id, client);
      // A client gets the server's front (to say hello) and where it
      // listens: never its role actors or its host.
      auto info = st.servers[id].info;
      info.acceptor = caf::actor{};
      info.proposer = caf::actor{};
      info.learner = caf::actor{};
      return assignment{info, cfg.max_text_bytes};
    },
    // The simulator checks who may change faults (operators only).
    [=](sim_atom) { return cfg.simulator; },
    [=](tick_atom) {
      if (!admit(self, msg_class::local_only, "tick"))
        return;
      poll_leader(self);
      self->delayed_send(self, ms(cfg.leader_poll_ms), tick_atom::value);
    },
    [=](status_atom) {
      auto rp = self->make_response_promise();
      gather_status(self, rp);
      return rp;
    },
    [=](const operator_command& cmd) -> caf::result<bool> {
      if (!admit(self, msg_class::operator_action, "operator_command"))
        return make_chat_error(chat_errc::not_permitted,
                               std::string{to_string(cmd.action)}
                                 + " needs an operator certificate");
      auto& st = self->state;
      if (cmd.action == operator_action::skip_slot && cmd.target == 0) {
        // Whoever leads acts on it; the others answer false.
        for (auto& [id, e] : st.servers)
          if (e.host && e.alive)
            self->send(e.host, operator_command{cmd.action, id});
        return true;
      }
      auto i = st.servers.find(cmd.target);
      if (i == st.servers.end() || !i->second.host)
        return make_chat_error(chat_errc::unknown_target,
                               "no server " + std::to_string(cmd.target)
                                 + " (servers: " + id_list(cfg.servers) + ")");
      return relay<bool>(self, i->second.host, cmd);
    },
  };
}

} // namespace cafchat
