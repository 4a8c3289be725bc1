#include "actors/common/client_key.hpp"
#include "actors/web/gateway.hpp"

#include <chrono>
#include <random>

#include "caf/event_based_actor.hpp"

#include "actors/client/client_actor.hpp"
#include "actors/common/actor_util.hpp"
#include "actors/web/web_protocol.hpp"
#include "actors/web/ws_limits.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/web.hpp"

namespace cafchat {

void ws_registry::add(const std::shared_ptr<ws_socket>& s) {
  std::lock_guard<std::mutex> guard{mtx_};
  sockets_[s->id()] = s;
}

void ws_registry::remove(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  sockets_.erase(id);
}

std::shared_ptr<ws_socket> ws_registry::find(uint64_t id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = sockets_.find(id);
  return i == sockets_.end() ? nullptr : i->second;
}

bool is_operator(const gateway_config& cfg, const ws_socket&) {
  return cfg.operators;
}

namespace {

using self_ptr = caf::stateful_actor<gateway_state>*;

/// Recent events a new tab gets at once, at most.
constexpr size_t recent_events_max = 300;
/// Events pushed to the tabs per poll, at most (the feeds sample already).
constexpr size_t events_per_push_max = 600;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Writes what one tab's chat client sees to that tab.
class web_listener : public client_listener {
public:
  web_listener(std::shared_ptr<ws_socket> socket,
               std::shared_ptr<std::atomic<uint64_t>> history)
    : socket_(std::move(socket)), history_(std::move(history)) {}

  void on_entries(const std::vector<chat_entry>& entries) override {
    socket_->send(web::entries_json(entries));
  }
  void on_notice(const client_notice& n) override {
    socket_->send(web::notice_json(n, history_->load()));
  }
  void on_acknowledged(uint64_t seq) override {
    socket_->send(web::ack_json(seq));
  }

private:
  std::shared_ptr<ws_socket> socket_;
  std::shared_ptr<std::atomic<uint64_t>> history_;
};

void broadcast(self_ptr self, const std::string& text) {
  for (auto& [id, c] : self->state.conns)
    c.socket->send(text);
}

void push_events(self_ptr self) {
  auto& st = self->state;
  if (st.conns.empty()) {
    st.pending_events.clear();
    st.seen = 0;
    st.dropped = 0;
    return;
  }
  if (st.pending_events.empty() && st.seen == 0)
    return;
  if (st.pending_events.size() > events_per_push_max) {
    auto extra = st.pending_events.size() - events_per_push_max;
    st.dropped += extra;
    st.pending_events.erase(st.pending_events.begin(),
                            st.pending_events.begin()
                              + static_cast<std::ptrdiff_t>(extra));
  }
  broadcast(self, web::events_json(st.pending_events, st.stride, st.seen,
                                   st.dropped));
  for (auto& l : st.pending_events) {
    st.recent_events.push_back(std::move(l));
    if (st.recent_events.size() > recent_events_max)
      st.recent_events.pop_front();
  }
  st.pending_events.clear();
  st.seen = 0;
  st.dropped = 0;
}

void publish_cluster(self_ptr self, const cluster_view& view,
                     const sim_report* report) {
  auto& st = self->state;
  st.history->store(web::history_size(view));
  auto text = web::cluster_json(view, report, 0);
  if (text == st.last_cluster)
    return;
  st.last_cluster = text;
  // Sent with the time it was taken; compared without it.
  broadcast(self, web::cluster_json(view, report, wall_ms()));
}

void poll(self_ptr self, const gateway_config& cfg) {
  auto& st = self->state;
  if (st.polling || !cfg.load_balancer)
    return;
  st.polling = true;
  self->request(cfg.load_balancer, std::chrono::seconds(3), status_atom::value)
    .then(
      [=](cluster_view& view) {
        auto sim = self->state.simulator;
        if (!sim) {
          self->state.polling = false;
          publish_cluster(self, view, nullptr);
          return;
        }
        self->request(sim, std::chrono::seconds(2), sim_control{})
          .then(
            [=](const sim_report& r) {
              self->state.polling = false;
              publish_cluster(self, view, &r);
            },
            [=](caf::error&) {
              self->state.polling = false;
              publish_cluster(self, view, nullptr);
            });
      },
      [=](caf::error&) { self->state.polling = false; });
}

/// Subscribes to the event feeds (`on`) or unsubscribes.
void subscribe(self_ptr self, const gateway_config& cfg, bool on) {
  auto me = caf::actor_cast<caf::actor>(self);
  if (cfg.local_feed)
    self->send(cfg.local_feed, event_subscribe{me, on});
  if (!cfg.middleman)
    return;
  // Each server node's host forwards the subscription to its feed; a
  // repeated one is harmless, and a restarted node is found again.
  for (auto& [host, port] : cfg.server_nodes)
    self
      ->request(cfg.middleman, std::chrono::seconds(2), caf::connect_atom::value,
                host, port)
      .then(
        [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
            const std::set<std::string>&) {
          if (ptr)
            self->send(caf::actor_cast<caf::actor>(ptr),
                       event_subscribe{me, on});
        },
        [](caf::error&) {});
}

void on_hello(self_ptr self, const gateway_config& cfg,
              gateway_state::conn& c, const web::hello_request& h) {
  if (c.client) {
    c.socket->send(web::error_json("bad_request", "already chatting as this "
                                                  "connection's client"));
    return;
  }
  client_config cc;
  cc.key = new_client_key(); // the id follows from it, below 2^53
  cc.id = client_id_of(cc.key);
  cc.name = h.name;
  cc.load_balancer = cfg.load_balancer;
  cc.retry_ms = cfg.client_retry_ms;
  cc.connect_timeout_ms = cfg.connect_timeout_ms;
  cc.max_text_bytes = cfg.max_text_bytes;
  cc.listener = std::make_shared<web_listener>(c.socket, self->state.history);
  cc.middleman = cfg.middleman;
  c.client_id = cc.id;
  c.client = self->spawn(client_actor, cc);
  c.socket->send(web::session_json(cc.id, h.name));
}

void on_say(self_ptr self, gateway_state::conn& c, const web::say_request& s) {
  auto socket = c.socket;
  if (!c.client) {
    socket->send(web::error_json("bad_request", "say hello first", s.ref));
    return;
  }
  auto ref = s.ref;
  self->request(c.client, std::chrono::seconds(5), say_atom::value, s.text)
    .then([=](uint64_t seq) { socket->send(web::said_json(ref, seq)); },
          [=](caf::error& e) {
            socket->send(web::error_json("refused", describe(e), ref));
          });
}

void on_op(self_ptr self, const gateway_config& cfg, gateway_state::conn& c,
           const web::op_request& op) {
  auto socket = c.socket;
  self
    ->request(cfg.load_balancer, std::chrono::seconds(10),
              operator_command{op.action, op.server})
    .then(
      [=](bool ok) {
        socket->send(web::result_json(op.ref, ok, web::describe_op(op, ok)));
        poll(self, cfg);
      },
      [=](caf::error& e) {
        socket->send(web::result_json(op.ref, false, describe(e)));
      });
}

void on_faults(self_ptr self, const gateway_config& cfg,
               gateway_state::conn& c, const web::faults_request& f) {
  auto socket = c.socket;
  auto sim = self->state.simulator;
  if (!sim) {
    socket->send(web::result_json(f.ref, false,
                                  "the network-fault simulator is not running "
                                  "(set [simulator] enabled = true)"));
    return;
  }
  self->request(sim, std::chrono::seconds(5), f.control)
    .then(
      [=](const sim_report& r) {
        socket->send(web::result_json(f.ref, true, "faults: " + r.summary));
        poll(self, cfg);
      },
      [=](caf::error& e) {
        socket->send(web::result_json(f.ref, false, describe(e)));
      });
}

void on_message(self_ptr self, const gateway_config& cfg, uint64_t id,
                const std::string& text) {
  auto i = self->state.conns.find(id);
  if (i == self->state.conns.end())
    return;
  auto& c = i->second;
  auto req = web::parse_request(text);
  if (auto h = std::get_if<web::hello_request>(&req)) {
    on_hello(self, cfg, c, *h);
  } else if (auto s = std::get_if<web::say_request>(&req)) {
    on_say(self, c, *s);
  } else if (auto op = std::get_if<web::op_request>(&req)) {
    if (!c.op)
      c.socket->send(web::result_json(op->ref, false,
                                      "refused: operator controls are for "
                                      "the operator only ("
                                        + cfg.operator_note + ")"));
    else
      on_op(self, cfg, c, *op);
  } else if (auto f = std::get_if<web::faults_request>(&req)) {
    if (!c.op && f->control.action != sim_action::query)
      c.socket->send(web::result_json(f->ref, false,
                                      "refused: fault injection is for the "
                                      "operator only ("
                                        + cfg.operator_note + ")"));
    else
      on_faults(self, cfg, c, *f);
  } else if (auto b = std::get_if<web::bad_request>(&req)) {
    if (b->close_code != 0)
      c.socket->close(b->close_code, b->message);
    else
      c.socket->send(web::error_json(b->code, b->message, b->ref));
  }
}

} // namespace

caf::behavior gateway_actor(caf::stateful_actor<gateway_state>* self,
                            gateway_config cfg) {
  drop_unexpected(self);
  self->state.simulator = cfg.simulator;
  self->state.history = std::make_shared<std::atomic<uint64_t>>(0);
  self->attach_functor([self] {
    for (auto& [id, c] : self->state.conns)
      if (c.client)
        caf::anon_send_exit(c.client, caf::exit_reason::user_shutdown);
  });
  if (!cfg.simulator && cfg.load_balancer)
    self->request(cfg.load_balancer, std::chrono::seconds(5), sim_atom::value)
      .then([=](const caf::actor& sim) { self->state.simulator = sim; },
            [](caf::error&) {});
  self->send(self, tick_atom::value);
  return {
    [=](ws_open_atom, uint64_t id) {
      auto socket = cfg.sockets->find(id);
      if (!socket)
        return;
      if (!self->state.subscribed) {
        // The first tab: from now on the nodes' events are wanted.
        self->state.subscribed = true;
        subscribe(self, cfg, true);
        if (cfg.middleman && !self->state.resubscribing) {
          self->state.resubscribing = true;
          self->delayed_send(self, std::chrono::seconds(2),
                             subscribe_atom::value);
        }
      }
      auto& c = self->state.conns[id];
      c.socket = socket;
      c.op = is_operator(cfg, *socket);
      socket->send(web::welcome_json(c.op, cfg.operator_note, cfg.limits,
                                     cfg.max_text_bytes, cfg.program,
                                     cfg.version));
      if (!self->state.last_cluster.empty())
        socket->send(self->state.last_cluster);
      std::vector<std::string> recent(self->state.recent_events.begin(),
                                      self->state.recent_events.end());
      if (!recent.empty())
        socket->send(web::events_json(recent, self->state.stride, 0, 0));
    },
    [=](ws_msg_atom, uint64_t id, const std::string& text) {
      on_message(self, cfg, id, text);
    },
    [=](ws_close_atom, uint64_t id) {
      auto i = self->state.conns.find(id);
      if (i == self->state.conns.end())
        return;
      if (i->second.client)
        self->send_exit(i->second.client, caf::exit_reason::user_shutdown);
      self->state.conns.erase(i);
      if (self->state.conns.empty() && self->state.subscribed) {
        // The last tab closed: the nodes need not build events for us.
        self->state.subscribed = false;
        subscribe(self, cfg, false);
      }
    },
    [=](tick_atom) {
      self->delayed_send(self, ms(cfg.poll_ms), tick_atom::value);
      poll(self, cfg);
      push_events(self);
    },
    [=](subscribe_atom) {
      // caf-web, while tabs are open: subscribe again every 2 s, since a
      // restarted node has a new feed.
      if (!self->state.subscribed) {
        self->state.resubscribing = false;
        return;
      }
      subscribe(self, cfg, true);
      self->delayed_send(self, std::chrono::seconds(2), subscribe_atom::value);
    },
    [=](event_batch& b) {
      auto& st = self->state;
      // The coarsest sampling of any feed since the last push.
      st.stride = st.seen == 0 ? b.stride : std::max(st.stride, b.stride);
      st.seen += b.seen;
      st.dropped += b.dropped;
      for (auto& l : b.lines)
        st.pending_events.push_back(std::move(l));
    },
  };
}

} // namespace cafchat
