#include "actors/server/host_actor.hpp"

#include <map>
#include <memory>
#include <utility>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/peer_auth.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/web.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<host_state>*;

/// Tells the peer hosts, and the network-fault simulator (which watches
/// which servers are live), about the running server.
void announce(self_ptr self) {
  auto& st = self->state;
  for (auto& h : st.peer_hosts)
    self->send(h, peer_atom::value, st.info);
  if (st.simulator)
    self->send(st.simulator, peer_atom::value, st.info);
}

void register_with_lb(self_ptr self, const host_config& cfg) {
  auto& st = self->state;
  if (!st.load_balancer || !st.info.front)
    return;
  auto inc = st.incarnation;
  self
    ->request(st.load_balancer, std::chrono::seconds(5),
              register_server{st.info, caf::actor_cast<caf::actor>(self)})
    .then([](bool) {},
          [=](caf::error& e) {
            auto& log = *cfg.server.log;
            if (log.enabled())
              log.event(now_ms(self), cfg.server.id, "register_failed")
                .field("error", describe(e));
            // Refused (an id the balancer does not know) is final; a timeout
            // is retried while this incarnation runs.
            if (e.category() == caf::atom("cafchat"))
              return;
            if (self->state.incarnation == inc && self->state.server)
              self->delayed_send(self, std::chrono::seconds(1),
                                 retry_atom::value);
          });
}

void start_server(self_ptr self, const host_config& cfg) {
  auto& st = self->state;
  auto sc = cfg.server;
  sc.incarnation = cfg.incarnation_base + ++st.incarnation;
  sc.storage = st.storage;
  // A founder's acceptor records on its first start that it votes; from
  // then on its storage says so. Wiped storage never founds anything.
  sc.founder = st.founder;
  sc.simulator = st.simulator;
  for (auto& [id, info] : st.peers)
    sc.peers.push_back(info);
  // Linked, so the server dies with its host; the host traps the exit of its
  // server (a crash or a /kill) in its exit handler.
  st.server = self->spawn<caf::linked>(server_actor, sc);
  self->request(st.server, caf::infinite, info_atom::value)
    .then(
      [=](server_info& info) {
        self->state.info = info;
        announce(self);
        register_with_lb(self, cfg);
      },
      [](caf::error&) {});
}

/// Watches the running incarnation's actors until they are all gone: only
/// then may the next incarnation open the same storage (two acceptors on one
/// disk could each forget what the other wrote).
void watch_roles(self_ptr self) {
  auto& st = self->state;
  for (auto& a : {st.info.front, st.info.acceptor, st.info.proposer,
                  st.info.learner})
    if (a && st.old_roles.insert(a.address()).second)
      self->monitor(a);
}

/// Runs `f` once no actor of a stopped incarnation runs any more.
void after_stop(self_ptr self, std::function<void()> f) {
  if (self->state.old_roles.empty())
    f();
  else
    self->state.when_stopped.push_back(std::move(f));
}

/// Crashes the running server (after_stop() says when it is gone).
void stop_server(self_ptr self, const host_config& cfg) {
  auto& st = self->state;
  if (!st.server)
    return;
  watch_roles(self);
  // Not exit_reason::kill: CAF makes that fatal for every linked actor, and
  // the host must survive its server.
  self->unlink_from(st.server);
  self->send_exit(st.server, caf::exit_reason::user_shutdown);
  st.server = caf::actor{};
  if (cfg.server.log->enabled())
    cfg.server.log->event(now_ms(self), cfg.server.id, "server_killed")
      .field("incarnation", st.incarnation);
}

} // namespace

caf::behavior host_actor(caf::stateful_actor<host_state>* self,
                         host_config cfg) {
  drop_unexpected(self);
  if (!cfg.server.log)
    cfg.server.log = event_log::null();
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (st.old_roles.erase(dm.source) == 0 || !st.old_roles.empty())
      return;
    auto todo = std::move(st.when_stopped);
    st.when_stopped.clear();
    for (auto& f : todo)
      f();
  });
  self->set_exit_handler([=](const caf::exit_msg& em) {
    auto& st = self->state;
    if (st.server && em.source == st.server.address()) {
      // The server died by itself (a storage error or a broken invariant).
      if (cfg.server.log->enabled())
        cfg.server.log->event(now_ms(self), cfg.server.id, "server_died")
          .field("reason", caf::to_string(em.reason));
      watch_roles(self);
      st.server = caf::actor{};
      return;
    }
    // Anyone else asking the host to stop (shutdown) stops its server too.
    stop_server(self, cfg);
    self->quit(em.reason);
  });
  self->state.load_balancer = cfg.load_balancer;
  self->state.simulator = cfg.server.simulator;
  self->state.storage = cfg.server.storage;
  self->state.founder = cfg.server.founder && cfg.server.storage.fresh;
  if (cfg.start_running)
    start_server(self, cfg);
  return {
    [=](lb_atom, const caf::actor& lb) {
      if (!admit(self, msg_class::local_only, "lb_atom"))
        return;
      // A (re)connected load balancer: register with it, and route peer
      // traffic through its simulator if it runs one.
      auto& st = self->state;
      if (lb == st.load_balancer)
        return;
      st.load_balancer = lb;
      if (!lb)
        return;
      register_with_lb(self, cfg);
      self->request(lb, std::chrono::seconds(5), sim_atom::value)
        .then(
          [=](const caf::actor& sim) {
            auto& st = self->state;
            if (sim == st.simulator)
              return;
            st.simulator = sim;
            if (st.server)
              self->send(st.server, sim_atom::value, sim);
            if (sim && st.info.front)
              self->send(sim, peer_atom::value, st.info);
          },
          [](caf::error&) {});
    },
    [=](hosts_atom, const std::vector<caf::actor>& hosts) {
      if (!admit(self, msg_class::local_only, "hosts_atom"))
        return;
      auto& st = self->state;
      st.peer_hosts.clear();
      for (auto& h : hosts)
        if (h != self)
          st.peer_hosts.push_back(h);
      if (st.server && st.info.front)
        announce(self);
    },
    [=](peer_atom, const server_info& info) {
      // Only server N announces server N.
      if (!admit(self, msg_class::peer, "peer_atom", info.id))
        return;
      auto& st = self->state;
      auto i = st.peers.find(info.id);
      if (i != st.peers.end() && i->second.incarnation > info.incarnation)
        return;
      st.peers[info.id] = info;
      if (st.server)
        self->send(st.server, peer_atom::value, info);
    },
    [=](retry_atom) {
      if (!admit(self, msg_class::local_only, "retry_atom"))
        return;
      // Retry timer of the registration.
      if (self->state.server)
        register_with_lb(self, cfg);
    },
    [=](const operator_command& cmd) -> caf::result<bool> {
      // Operators reach hosts through the load balancer, which checks them
      // and hands the request on (as the operator) or sends it itself.
      if (auto who = sender_principal(self);
          !permitted(who, msg_class::from_lb)
          && !permitted(who, msg_class::operator_action)) {
        log_refusal(who, "operator_command", "operator action");
        return make_chat_error(chat_errc::not_permitted,
                               "operator commands need an operator "
                               "certificate");
      }
      switch (cmd.action) {
        case operator_action::kill: {
          if (!self->state.server)
            return false;
          // Answered once the front and all three roles are gone, so a
          // /kill that returns is complete.
          auto rp = self->make_response_promise();
          stop_server(self, cfg);
          after_stop(self, [rp]() mutable { rp.deliver(true); });
          return rp;
        }
        case operator_action::restart:
          if (self->state.server || self->state.restarting)
            return false;
          self->state.restarting = true;
          after_stop(self, [=] {
            self->state.restarting = false;
            if (!self->state.server)
              start_server(self, cfg);
          });
          return true;
        case operator_action::skip_slot:
          if (!self->state.server)
            return false;
          return relay<bool>(self, self->state.server, skip_atom::value);
        case operator_action::wipe: {
          if (!cfg.new_storage)
            return false;
          // The disk dies with the server: what it held is gone for good.
          auto rp = self->make_response_promise();
          stop_server(self, cfg);
          // Only once every role is gone may the old storage be dropped.
          after_stop(self, [=]() mutable {
            auto& st = self->state;
            st.storage = server_storage{};
            st.storage = cfg.new_storage();
            st.founder = false;
            if (cfg.server.log->enabled())
              cfg.server.log->event(now_ms(self), cfg.server.id,
                                    "storage_wiped");
            rp.deliver(true);
          });
          return rp;
        }
      }
      return false;
    },
    [=](const event_subscribe& s) {
      if (!admit(self, msg_class::observe, "event_subscribe"))
        return;
      // A web console (caf-web) wants this node's protocol events.
      if (cfg.event_feed)
        self->send(cfg.event_feed, s);
    },
    [=](status_atom) -> caf::result<server_status> {
      if (!self->state.server) {
        server_status st;
        st.id = cfg.server.id;
        st.alive = false;
        st.role = server_role::down;
        return st;
      }
      return relay<server_status>(self, self->state.server,
                                  status_atom::value);
    },
  };
}

} // namespace cafchat
