#pragma once

// The network-fault simulator's test fixture: peer messages go in as
// `routed`, a recording actor stands in for the destination and notes what
// arrives when on the simulated clock; and short ways to write controls.

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tools/sim/harness.hpp"

namespace cafchat::test {

/// One message as the recording actor received it.
struct arrival {
  std::string type;
  uint64_t tag = 0; ///< The message's slot (or chosen_upto): identifies it.
  int64_t t_ms = 0; ///< Simulated time of arrival.

  friend bool operator==(const arrival& a, const arrival& b) {
    return a.type == b.type && a.tag == b.tag && a.t_ms == b.t_ms;
  }
};

using arrivals = std::vector<arrival>;

inline caf::behavior recorder(caf::event_based_actor* self,
                              std::shared_ptr<arrivals> got) {
  auto note = [=](const char* type, uint64_t tag) {
    got->push_back({type, tag, now_ms(self)});
  };
  return {
    [=](const prepare& m) { note("prepare", m.first_slot); },
    [=](const promise& m) { note("promise", m.first_slot); },
    [=](const accept& m) { note("accept", m.slot); },
    [=](const accepted& m) { note("accepted", m.slot); },
    [=](const nack& m) { note("nack", m.slot); },
    [=](const decide& m) { note("decide", m.slot); },
    [=](const learn& m) { note("learn", m.slot); },
    [=](const heartbeat& m) { note("heartbeat", m.chosen_upto); },
  };
}

struct sim_fixture : det_fixture {
  std::shared_ptr<arrivals> got = std::make_shared<arrivals>();
  caf::actor dest = own(sys.spawn(recorder, got));
  // Shared with the sink: the simulator may still log while the fixture's
  // base class tears the actors down, after this class's members are gone.
  std::shared_ptr<std::vector<std::string>> log_lines
    = std::make_shared<std::vector<std::string>>();
  event_log_ptr log = event_log::to_sink(
    [lines = log_lines](const std::string& line) { lines->push_back(line); });

  caf::actor start(sim_options o, std::vector<server_id> servers = {1, 2, 3}) {
    simulator_config sc;
    sc.opts = std::move(o);
    sc.log = log;
    sc.servers = std::move(servers);
    auto sim = own(sys.spawn(simulator_actor, sc));
    drain();
    return sim;
  }

  static simulator_state& state(const caf::actor& sim) {
    auto st = cluster_harness::peek<simulator_state>(sim);
    REQUIRE(st != nullptr);
    return *st;
  }

  template <class T>
  void send(const caf::actor& sim, server_id from, server_id to, T msg,
            const caf::actor& to_actor = {}) {
    caf::anon_send(sim, routed{from, to, to_actor ? to_actor : dest,
                               caf::make_message(std::move(msg))});
  }

  caf::expected<sim_report> control(const caf::actor& sim, sim_control c) {
    return ask<sim_report>(sim, std::move(c));
  }

  /// Moves simulated time by exactly `d`, running everything that is due.
  void pass(caf::timespan d) {
    sched.advance_time(d);
    drain();
  }

  int64_t t_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now()).count();
  }

  size_t count_lines(const std::string& needle) const {
    return static_cast<size_t>(
      std::count_if(log_lines->begin(), log_lines->end(), [&](auto& l) {
        return l.find(needle) != std::string::npos;
      }));
  }
};

inline sim_control ctl(sim_action a) {
  sim_control c;
  c.action = a;
  return c;
}

inline sim_control rule_for(server_id id, std::string text) {
  auto c = ctl(sim_action::set_rule);
  c.server = id;
  c.rule = std::move(text);
  return c;
}

inline sim_control probability(sim_action a, double p) {
  auto c = ctl(a);
  c.probability = p;
  return c;
}

inline sim_control range(sim_action a, uint32_t lo, uint32_t hi,
                         bool on = true) {
  auto c = ctl(a);
  c.min_ms = lo;
  c.max_ms = hi;
  c.on = on;
  return c;
}

inline sim_control isolate(server_id id) {
  auto c = ctl(sim_action::isolate);
  c.server = id;
  return c;
}

inline sim_control split(std::vector<server_id> side) {
  auto c = ctl(sim_action::split);
  c.servers = std::move(side);
  return c;
}

/// Sends one heartbeat between every ordered pair of {1, 2, 3}, tagged
/// from * 10 + to, and returns the pairs whose message arrived at once.
inline std::set<std::pair<server_id, server_id>>
reachable(sim_fixture& fx, const caf::actor& sim) {
  fx.got->clear();
  for (server_id a = 1; a <= 3; ++a)
    for (server_id b = 1; b <= 3; ++b)
      if (a != b)
        fx.send(sim, a, b, heartbeat{{1, a}, a, a * 10u + b});
  fx.drain();
  std::set<std::pair<server_id, server_id>> ok;
  for (auto& x : *fx.got)
    ok.emplace(static_cast<server_id>(x.tag / 10),
               static_cast<server_id>(x.tag % 10));
  return ok;
}

using pairs = std::set<std::pair<server_id, server_id>>;

inline const pairs all_pairs{{1, 2}, {1, 3}, {2, 1}, {2, 3}, {3, 1}, {3, 2}};

} // namespace cafchat::test
