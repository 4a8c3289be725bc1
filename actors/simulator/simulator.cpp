#include "actors/simulator/simulator.hpp"

#include <stdexcept>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/peer_auth.hpp"
#include "messages/atoms.hpp"
#include "messages/control.hpp"
#include "messages/errors.hpp"

namespace cafchat {

namespace {

/// Whether `payload` is one peer message of a type in `Ts`; if so, calls
/// `f(type_tag<T>{}, msg)` with it.
template <class F, class... Ts>
bool visit_peer_message(const caf::message& payload, type_list<Ts...>, F&& f) {
  auto try_one = [&](auto tag) {
    using type = typename decltype(tag)::type;
    if (!payload.match_elements<type>())
      return false;
    f(tag, payload.get_as<type>(0));
    return true;
  };
  return (try_one(type_tag<Ts>{}) || ...);
}

} // namespace

msg_phase phase_of(const caf::message& payload) {
  auto phase = msg_phase::none;
  visit_peer_message(payload, peer_messages{}, [&](auto tag, const auto& x) {
    phase = peer_traits<typename decltype(tag)::type>::phase(x);
  });
  return phase;
}

std::string_view type_name_of(const caf::message& payload) {
  std::string_view name = "other";
  visit_peer_message(payload, peer_messages{}, [&](auto tag, const auto&) {
    name = peer_traits<typename decltype(tag)::type>::name;
  });
  return name;
}

namespace {

using self_ptr = caf::stateful_actor<simulator_state>*;

const char* to_string(sim_action a) {
  switch (a) {
    case sim_action::query:
      return "query";
    case sim_action::set_rule:
      return "set_rule";
    case sim_action::clear_rule:
      return "clear_rule";
    case sim_action::drop:
      return "drop";
    case sim_action::duplicate:
      return "duplicate";
    case sim_action::delay:
      return "delay";
    case sim_action::omission:
      return "omission";
    case sim_action::isolate:
      return "isolate";
    case sim_action::split:
      return "split";
    case sim_action::heal:
      return "heal";
    case sim_action::all_off:
      return "all_off";
  }
  return "unknown";
}

// -- the omission fault ---------------------------------------------------------

void log_omission(self_ptr self, const simulator_config& cfg,
                  const std::optional<omission_change>& c) {
  if (c && cfg.log->enabled())
    cfg.log->event(now_ms(self), 0, "fault")
      .field("kind", "omission")
      .field("before", c->before)
      .field("faulty", c->after)
      .field("why", c->why);
}

/// Starts the rotation timer of the current omission setting; the timers of
/// older settings carry an older epoch and are ignored.
void schedule_rotation(self_ptr self) {
  auto& m = *self->state.model;
  if (!m.options().omission)
    return;
  auto d = m.next_rotation_ms();
  self->delayed_send(self, ms(static_cast<uint64_t>(d)), tick_atom::value,
                     m.rotation_epoch());
}

// -- messages ---------------------------------------------------------------------

void log_route(self_ptr self, const simulator_config& cfg, const routed& r,
               msg_phase phase, const route_decision& d) {
  auto& log = *cfg.log;
  if (!log.enabled())
    return;
  auto t = now_ms(self);
  auto type = type_name_of(r.payload);
  if (d.dropped != drop_reason::none) {
    log.event(t, 0, "fault")
      .field("kind", "drop")
      .field("from", r.from)
      .field("to", r.to)
      .field("type", type)
      .field("reason", to_string(d.dropped));
    return;
  }
  if (d.rule_delay_ms > 0)
    log.event(t, 0, "fault")
      .field("kind", "rule_delay")
      .field("from", r.from)
      .field("to", r.to)
      .field("type", type)
      .field("phase", std::string(1, static_cast<char>(phase)))
      .field("delay_ms", d.rule_delay_ms);
  if (d.delays_ms.size() > 1)
    log.event(t, 0, "fault")
      .field("kind", "duplicate")
      .field("from", r.from)
      .field("to", r.to)
      .field("type", type)
      .field("delay_ms", d.delays_ms[0])
      .field("again_ms", d.delays_ms[1]);
}

void route(self_ptr self, const simulator_config& cfg, const routed& r) {
  // Only peer messages travel through the simulator (peer_links wraps
  // nothing else). Anything else is dropped, not sent on: the simulator
  // must not re-send arbitrary content for whoever sent it (re-encoding an
  // infinite double, for one, never ends in CAF 0.17).
  if (!visit_peer_message(r.payload, peer_messages{}, [](auto, const auto&) {})) {
    if (cfg.log->enabled())
      cfg.log->event(now_ms(self), 0, "fault")
        .field("kind", "drop")
        .field("from", r.from)
        .field("to", r.to)
        .field("type", "other")
        .field("reason", "not_a_peer_message");
    return;
  }
  auto phase = phase_of(r.payload);
  auto d = self->state.model->route(r.from, r.to, phase, now_ms(self));
  log_route(self, cfg, r, phase, d);
  for (auto delay : d.delays_ms) {
    if (delay == 0)
      self->send(r.dest, r.payload);
    else
      self->delayed_send(r.dest, ms(static_cast<uint64_t>(delay)), r.payload);
  }
}

void announce(self_ptr self, const simulator_config& cfg,
              const server_info& info) {
  auto& st = self->state;
  auto& e = st.servers[info.id];
  if (info.incarnation < e.incarnation
      || (info.incarnation == e.incarnation && e.front == info.front.address()))
    return; // stale, or a repeated announcement
  e.incarnation = info.incarnation;
  e.front = info.front.address();
  if (info.front)
    self->monitor(info.front);
  log_omission(self, cfg, st.model->server_up(info.id));
}

// -- operator controls -------------------------------------------------------------

sim_report report(self_ptr self) {
  auto& m = *self->state.model;
  auto& o = m.options();
  sim_report r;
  r.seed = o.seed;
  r.delay_min_ms = o.delay_min_ms;
  r.delay_max_ms = o.delay_max_ms;
  r.drop_probability = o.drop_probability;
  r.duplicate_probability = o.duplicate_probability;
  r.omission = o.omission;
  r.rotation_min_ms = o.rotation_min_ms;
  r.rotation_max_ms = o.rotation_max_ms;
  r.faulty = m.faulty();
  for (auto& [id, rule] : o.rules)
    r.rules[id] = to_string(rule);
  r.partitions = o.partitions;
  r.live = m.live_servers();
  r.forwarded = m.counters().forwarded;
  r.dropped = m.counters().dropped;
  r.duplicated = m.counters().duplicated;
  r.summary = m.summary();
  return r;
}

/// Applies one control to the model; a refusal changes nothing.
fault_result apply(self_ptr self, const simulator_config& cfg,
                   const sim_control& c) {
  auto& m = *self->state.model;
  std::optional<omission_change> change;
  fault_result res;
  auto epoch = m.rotation_epoch();
  switch (c.action) {
    case sim_action::query:
      break;
    case sim_action::set_rule:
      res = m.set_rule(c.server, c.rule, now_ms(self));
      break;
    case sim_action::clear_rule:
      res = m.clear_rule(c.server);
      break;
    case sim_action::drop:
      res = m.set_drop_probability(c.probability);
      break;
    case sim_action::duplicate:
      res = m.set_duplicate_probability(c.probability);
      break;
    case sim_action::delay:
      res = m.set_delay(c.min_ms, c.max_ms);
      break;
    case sim_action::omission:
      res = m.set_omission(c.on, c.min_ms, c.max_ms, change);
      break;
    case sim_action::isolate:
      res = m.isolate(c.server);
      break;
    case sim_action::split:
      res = m.split(c.servers);
      break;
    case sim_action::heal:
      m.heal();
      break;
    case sim_action::all_off:
      m.all_off(change);
      break;
    default:
      res = fault_refusal{false, "unknown simulator action "
                                   + std::to_string(static_cast<int>(c.action))};
  }
  log_omission(self, cfg, change);
  if (m.rotation_epoch() != epoch)
    schedule_rotation(self);
  return res;
}

} // namespace

caf::behavior simulator_actor(caf::stateful_actor<simulator_state>* self,
                              simulator_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  try {
    cfg.opts.validate();
  } catch (const std::invalid_argument& e) {
    self->quit(make_chat_error(chat_errc::invalid_fault, e.what()));
    return {};
  }
  self->state.model.emplace(cfg.opts, cfg.servers, now_ms(self));
  schedule_rotation(self);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [id, e] : st.servers)
      if (e.front && e.front == dm.source) {
        e.front = caf::actor_addr{};
        log_omission(self, cfg, st.model->server_down(id));
      }
  });
  return {
    [=](const routed& r) {
      // Only server N sends what server N sends.
      if (admit(self, msg_class::peer, "routed", r.from))
        route(self, cfg, r);
    },
    [=](peer_atom, const server_info& info) {
      if (admit(self, msg_class::peer, "peer_atom", info.id))
        announce(self, cfg, info);
    },
    [=](tick_atom, uint64_t epoch) {
      if (!admit(self, msg_class::local_only, "tick"))
        return;
      // The omission fault moves on; a timer of an older setting is stale.
      auto& m = *self->state.model;
      if (epoch != m.rotation_epoch() || !m.options().omission)
        return;
      log_omission(self, cfg, m.rotate());
      schedule_rotation(self);
    },
    [=](const sim_control& c) -> caf::result<sim_report> {
      // Anyone may look; changing faults is an operator action.
      if (!admit(self,
                 c.action == sim_action::query ? msg_class::client_request
                                               : msg_class::operator_action,
                 "sim_control"))
        return make_chat_error(chat_errc::not_permitted,
                               "/faults needs an operator certificate");
      if (auto refusal = apply(self, cfg, c)) {
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), 0, "fault")
            .field("kind", "control_refused")
            .field("action", to_string(c.action))
            .field("why", refusal->why);
        return make_chat_error(refusal->unknown_server
                                 ? chat_errc::unknown_server
                                 : chat_errc::invalid_fault,
                               refusal->why);
      }
      auto r = report(self);
      if (c.action != sim_action::query && cfg.log->enabled())
        cfg.log->event(now_ms(self), 0, "fault")
          .field("kind", "control")
          .field("action", to_string(c.action))
          .field("state", r.summary);
      return r;
    },
  };
}

} // namespace cafchat
