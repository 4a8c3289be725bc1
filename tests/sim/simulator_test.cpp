// The network-fault simulator on CAF's test coordinator: peer messages go in
// as `routed`, a recording actor stands in for the destination and notes what
// arrives when on the simulated clock. Every fault mode of prior systems 000
// and 001 (delays, the rotating omission-faulty server, per-phase rules,
// d:N) and the others (random loss, duplicates, partitions, runtime control).

#include <catch2/catch.hpp>

#include "tools/sim/harness.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "actors/common/actor_util.hpp"
#include "messages/errors.hpp"

using namespace cafchat;
using namespace cafchat::test;
using namespace std::chrono_literals;

namespace {

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

caf::behavior recorder(caf::event_based_actor* self,
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

sim_control ctl(sim_action a) {
  sim_control c;
  c.action = a;
  return c;
}

sim_control rule_for(server_id id, std::string text) {
  auto c = ctl(sim_action::set_rule);
  c.server = id;
  c.rule = std::move(text);
  return c;
}

sim_control probability(sim_action a, double p) {
  auto c = ctl(a);
  c.probability = p;
  return c;
}

sim_control range(sim_action a, uint32_t lo, uint32_t hi, bool on = true) {
  auto c = ctl(a);
  c.min_ms = lo;
  c.max_ms = hi;
  c.on = on;
  return c;
}

sim_control isolate(server_id id) {
  auto c = ctl(sim_action::isolate);
  c.server = id;
  return c;
}

sim_control split(std::vector<server_id> side) {
  auto c = ctl(sim_action::split);
  c.servers = std::move(side);
  return c;
}

/// Sends one heartbeat between every ordered pair of {1, 2, 3}, tagged
/// from * 10 + to, and returns the pairs whose message arrived at once.
std::set<std::pair<server_id, server_id>> reachable(sim_fixture& fx,
                                                    const caf::actor& sim) {
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

const pairs all_pairs{{1, 2}, {1, 3}, {2, 1}, {2, 3}, {3, 1}, {3, 2}};

} // namespace

TEST_CASE_METHOD(sim_fixture, "simulator: with no fault every peer message "
                              "passes at once, unchanged and in order") {
  auto sim = start(sim_options{});
  auto t0 = t_ms();
  for (uint64_t i = 1; i <= 100; ++i) {
    switch (i % 4) {
      case 0:
        send(sim, 1, 2, prepare{{i, 1}, i});
        break;
      case 1:
        send(sim, 2, 3, accept{{1, 2}, i, value::noop()});
        break;
      case 2:
        send(sim, 3, 1, decide{i, value::noop()});
        break;
      default:
        send(sim, 1, 3, heartbeat{{1, 1}, 1, i});
    }
  }
  drain();
  REQUIRE(got->size() == 100);
  for (uint64_t i = 1; i <= 100; ++i) {
    CHECK((*got)[i - 1].tag == i);
    CHECK((*got)[i - 1].t_ms == t0);
  }
  CHECK(state(sim).counters().forwarded == 100);
  CHECK(state(sim).counters().dropped == 0);
  CHECK(state(sim).counters().duplicated == 0);
  CHECK(count_lines("\"event\":\"fault\"") == 0);
}

TEST_CASE_METHOD(sim_fixture, "simulator: delays are uniform in [min, max], "
                              "spread out, and reorder messages") {
  sim_options o;
  o.seed = 3;
  o.delay_min_ms = 100;
  o.delay_max_ms = 500;
  auto sim = start(o);
  auto t0 = t_ms();
  for (uint64_t i = 1; i <= 400; ++i)
    send(sim, 1, 2, accept{{1, 1}, i, value::noop()});
  run_for(1s);
  REQUIRE(got->size() == 400);
  std::set<int64_t> delays;
  size_t inversions = 0;
  for (size_t i = 0; i < got->size(); ++i) {
    auto d = (*got)[i].t_ms - t0;
    CHECK(d >= 100);
    CHECK(d <= 500);
    delays.insert(d);
    if (i > 0 && (*got)[i].tag < (*got)[i - 1].tag)
      ++inversions;
  }
  // 400 draws from 401 values: both ends are nearly reached, and many
  // distinct values occur.
  CHECK(*delays.begin() < 110);
  CHECK(*delays.rbegin() > 490);
  CHECK(delays.size() > 200);
  CHECK(inversions > 100);
}

TEST_CASE_METHOD(sim_fixture, "simulator: random drops occur at the set rate, "
                              "and one seed gives one schedule") {
  sim_options o;
  o.seed = 42;
  o.drop_probability = 0.2;
  o.delay_min_ms = 0;
  o.delay_max_ms = 100;
  auto sim_a = start(o);
  auto sim_b = start(o);
  o.seed = 43;
  auto sim_c = start(o);
  auto got_b = std::make_shared<arrivals>();
  auto got_c = std::make_shared<arrivals>();
  auto dest_b = own(sys.spawn(recorder, got_b));
  auto dest_c = own(sys.spawn(recorder, got_c));
  const size_t n = 2000;
  for (uint64_t i = 1; i <= n; ++i) {
    send(sim_a, 1, 2, accept{{1, 1}, i, value::noop()});
    send(sim_b, 1, 2, accept{{1, 1}, i, value::noop()}, dest_b);
    send(sim_c, 1, 2, accept{{1, 1}, i, value::noop()}, dest_c);
  }
  run_for(1s);
  // Binomial(2000, 0.2): mean 400, sd 17.9; +-4 sd.
  auto lost = n - got->size();
  CHECK(lost > 328);
  CHECK(lost < 472);
  auto& c = state(sim_a).counters();
  CHECK(c.dropped == lost);
  CHECK(c.dropped_random == lost);
  CHECK(c.forwarded == got->size());
  CHECK(count_lines("\"reason\":\"random\"") >= lost);
  // The same seed: the same messages lost, each arriving at the same time.
  CHECK(*got == *got_b);
  // Another seed: another schedule.
  CHECK_FALSE(*got == *got_c);
}

TEST_CASE_METHOD(sim_fixture, "simulator: a duplicated message arrives twice, "
                              "each copy with its own delay") {
  sim_options o;
  o.seed = 5;
  o.duplicate_probability = 0.3;
  o.delay_min_ms = 10;
  o.delay_max_ms = 50;
  auto sim = start(o);
  const size_t n = 1000;
  for (uint64_t i = 1; i <= n; ++i)
    send(sim, 2, 1, accepted{{1, 1}, i, 2});
  run_for(1s);
  std::map<uint64_t, std::vector<int64_t>> times;
  for (auto& x : *got)
    times[x.tag].push_back(x.t_ms);
  REQUIRE(times.size() == n);
  size_t twice = 0;
  size_t apart = 0;
  for (auto& [tag, ts] : times) {
    REQUIRE(ts.size() <= 2);
    if (ts.size() == 2) {
      ++twice;
      apart += ts[0] != ts[1];
    }
  }
  // Binomial(1000, 0.3): mean 300, sd 14.5; +-4 sd.
  CHECK(twice > 242);
  CHECK(twice < 358);
  CHECK(apart > twice / 2);
  CHECK(state(sim).counters().duplicated == twice);
  CHECK(state(sim).counters().forwarded == n);
  CHECK(count_lines("\"kind\":\"duplicate\"") == twice);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule p:10 delays phase-1 messages to "
                              "that server by 10 s, and nothing else") {
  sim_options o;
  o.rules[2] = parse_rule("p:10");
  auto sim = start(o);
  auto t0 = t_ms();
  send(sim, 1, 2, prepare{{1, 1}, 1});
  send(sim, 1, 2, promise{{1, 2}, 1, 2, {}, 0, {}});
  send(sim, 1, 2, nack{{1, 1}, {2, 3}, 0, 1}); // rejects a prepare: phase 1
  send(sim, 1, 2, accept{{1, 1}, 4, value::noop()});
  send(sim, 1, 2, accepted{{1, 2}, 5, 1});
  send(sim, 1, 2, nack{{1, 1}, {2, 3}, 6, 1}); // rejects an accept: phase 2
  send(sim, 1, 2, decide{7, value::noop()});
  send(sim, 1, 2, heartbeat{{1, 1}, 1, 8});
  send(sim, 2, 1, prepare{{1, 2}, 9});  // from the ruled server
  send(sim, 1, 3, prepare{{1, 1}, 10}); // to another server
  drain();
  pass(9999ms);
  std::set<uint64_t> early;
  for (auto& x : *got) {
    CHECK(x.t_ms == t0);
    early.insert(x.tag);
  }
  CHECK(early == std::set<uint64_t>{4, 5, 6, 7, 8, 9, 10});
  pass(1ms);
  REQUIRE(got->size() == 10);
  for (size_t i = 7; i < 10; ++i)
    CHECK((*got)[i].t_ms == t0 + 10000);
  std::set<uint64_t> late{(*got)[7].tag, (*got)[8].tag, (*got)[9].tag};
  CHECK(late == std::set<uint64_t>{0, 1, 2});
  CHECK(state(sim).counters().rule_delayed == 3);
  CHECK(count_lines("\"kind\":\"rule_delay\"") == 3);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule p:10::a:20::c:30 delays each "
                              "phase by its own time, on top of the random "
                              "delay") {
  sim_options o;
  o.delay_min_ms = 5;
  o.delay_max_ms = 5;
  auto sim = start(o);
  auto r = control(sim, rule_for(1, "p:10::a:20::c:30"));
  REQUIRE(r);
  CHECK(r->rules.at(1) == "p:10::a:20::c:30");
  auto t0 = t_ms();
  send(sim, 2, 1, prepare{{1, 2}, 1});
  send(sim, 2, 1, accept{{1, 2}, 2, value::noop()});
  send(sim, 3, 1, learn{{1, 3}, 3, 3, value::noop()});
  send(sim, 2, 1, decide{4, value::noop()});
  send(sim, 2, 1, heartbeat{{1, 2}, 2, 5});
  send(sim, 1, 2, decide{6, value::noop()});
  run_for(40s);
  std::map<uint64_t, int64_t> delay;
  for (auto& x : *got)
    delay[x.tag] = x.t_ms - t0;
  CHECK(delay == std::map<uint64_t, int64_t>{{1, 10005},
                                             {2, 20005},
                                             {3, 20005},
                                             {4, 30005},
                                             {5, 5},
                                             {6, 5}});
  // Milliseconds work too.
  REQUIRE(control(sim, rule_for(1, "p:250ms")));
  got->clear();
  t0 = t_ms();
  send(sim, 2, 1, prepare{{1, 2}, 7});
  send(sim, 2, 1, accept{{1, 2}, 8, value::noop()});
  run_for(1s);
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].tag == 8);
  CHECK((*got)[0].t_ms - t0 == 5);
  CHECK((*got)[1].t_ms - t0 == 255);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule d:0 drops every message to and "
                              "from that server, and only those") {
  sim_options o;
  o.rules[2] = parse_rule("d:0");
  auto sim = start(o);
  CHECK(reachable(*this, sim) == pairs{{1, 3}, {3, 1}});
  CHECK(state(sim).counters().dropped_rule == 4);
  CHECK(count_lines("\"reason\":\"rule\"") == 4);
  // Cleared: everything passes again.
  REQUIRE(control(sim, [] {
    auto c = ctl(sim_action::clear_rule);
    c.server = 2;
    return c;
  }()));
  CHECK(reachable(*this, sim) == all_pairs);
}

TEST_CASE_METHOD(sim_fixture, "simulator: rule d:N drops from N after the rule "
                              "was set") {
  auto sim = start(sim_options{});
  pass(1s);
  REQUIRE(control(sim, rule_for(3, "d:2")));
  pass(1999ms);
  CHECK(reachable(*this, sim) == all_pairs);
  pass(1ms);
  CHECK(reachable(*this, sim) == pairs{{1, 2}, {2, 1}});
  // Setting the rule again restarts its clock.
  REQUIRE(control(sim, rule_for(3, "d:2")));
  CHECK(reachable(*this, sim) == all_pairs);
}

TEST_CASE_METHOD(sim_fixture, "simulator: omission: one live server at a time "
                              "is faulty, rotating at random among the live "
                              "ones, and loses all its traffic") {
  sim_options o;
  o.seed = 9;
  o.omission = true;
  o.rotation_min_ms = 1000;
  o.rotation_max_ms = 3000;
  auto sim = start(o);
  auto& st = state(sim);
  CHECK(st.faulty() == 0); // no live server yet
  std::map<server_id, caf::actor> fronts;
  uint64_t incarnation = 0;
  auto up = [&](server_id id) {
    fronts[id] = own(sys.spawn([] { return caf::behavior{[](int) {}}; }));
    server_info info;
    info.id = id;
    info.incarnation = ++incarnation;
    info.front = fronts[id];
    caf::anon_send(sim, peer_atom::value, info);
    drain();
  };
  auto down = [&](server_id id) {
    caf::anon_send_exit(fronts[id], caf::exit_reason::user_shutdown);
    drain();
  };
  for (server_id id = 1; id <= 3; ++id)
    up(id);
  std::vector<std::pair<int64_t, server_id>> changes{{t_ms(), st.faulty()}};
  std::set<server_id> ever;
  auto sample = [&](const std::set<server_id>& live) {
    auto f = st.faulty();
    REQUIRE(f != 0);
    REQUIRE(live.count(f) == 1);
    if (f != changes.back().second)
      changes.emplace_back(t_ms(), f);
    ever.insert(f);
    // Exactly the faulty server is cut off: never two at once, never none.
    auto ok = reachable(*this, sim);
    for (server_id a = 1; a <= 3; ++a)
      for (server_id b = 1; b <= 3; ++b)
        if (a != b && live.count(a) && live.count(b))
          CHECK(ok.count({a, b}) == (a != f && b != f ? 1u : 0u));
  };
  for (int i = 0; i < 1200; ++i) { // two minutes
    sample({1, 2, 3});
    pass(100ms);
  }
  CHECK(ever == std::set<server_id>{1, 2, 3});
  // Every 1 to 3 s (seen at 100 ms resolution): about 60 changes.
  CHECK(changes.size() > 40);
  CHECK(changes.size() < 125);
  for (size_t i = 2; i < changes.size(); ++i) {
    auto gap = changes[i].first - changes[i - 1].first;
    CHECK(gap >= 900);
    CHECK(gap <= 3100);
  }
  // Every change is in the event log (the first one happened on startup).
  CHECK(count_lines("\"kind\":\"omission\"") >= changes.size());
  // The faulty server dies: another live one is faulty at once; the dead one
  // never is, until it is back.
  auto victim = st.faulty();
  down(victim);
  CHECK(st.faulty() != 0);
  CHECK(st.faulty() != victim);
  std::set<server_id> live{1, 2, 3};
  live.erase(victim);
  for (int i = 0; i < 300; ++i) {
    sample(live);
    pass(100ms);
  }
  up(victim);
  live.insert(victim);
  ever.clear();
  for (int i = 0; i < 600; ++i) {
    sample(live);
    pass(100ms);
  }
  CHECK(ever.count(victim) == 1);
  // Off: nobody is faulty, everything passes.
  auto r = control(sim, range(sim_action::omission, 0, 0, false));
  REQUIRE(r);
  CHECK(r->faulty == 0);
  CHECK_FALSE(r->omission);
  pass(10s);
  CHECK(st.faulty() == 0);
  CHECK(reachable(*this, sim) == all_pairs);
}

TEST_CASE_METHOD(sim_fixture, "simulator: isolate, split and heal partition "
                              "the servers") {
  auto sim = start(sim_options{});
  auto r = control(sim, isolate(3));
  REQUIRE(r);
  CHECK(r->partitions == std::vector<std::vector<server_id>>{{3}});
  CHECK(reachable(*this, sim) == pairs{{1, 2}, {2, 1}});
  REQUIRE(control(sim, isolate(1)));
  CHECK(reachable(*this, sim).empty());
  r = control(sim, ctl(sim_action::heal));
  REQUIRE(r);
  CHECK(r->partitions.empty());
  CHECK(reachable(*this, sim) == all_pairs);
  r = control(sim, split({2, 1}));
  REQUIRE(r);
  CHECK(r->partitions == std::vector<std::vector<server_id>>{{1, 2}});
  CHECK(r->summary.find("partition {1, 2} | {3}") != std::string::npos);
  CHECK(reachable(*this, sim) == pairs{{1, 2}, {2, 1}});
  // A split replaces the partition before it.
  REQUIRE(control(sim, split({1})));
  CHECK(reachable(*this, sim) == pairs{{2, 3}, {3, 2}});
  CHECK(state(sim).counters().dropped_partition == 4 + 6 + 4 + 4);
  CHECK(count_lines("\"kind\":\"control\"") == 5);
}

TEST_CASE_METHOD(sim_fixture, "simulator: controls change the faults at run "
                              "time, and 'all off' removes every one") {
  auto sim = start(sim_options{});
  REQUIRE(control(sim, probability(sim_action::drop, 0.5)));
  REQUIRE(control(sim, probability(sim_action::duplicate, 0.25)));
  REQUIRE(control(sim, range(sim_action::delay, 10, 20)));
  REQUIRE(control(sim, rule_for(2, "a:1")));
  REQUIRE(control(sim, range(sim_action::omission, 5000, 6000)));
  REQUIRE(control(sim, isolate(1)));
  auto r = control(sim, ctl(sim_action::query));
  REQUIRE(r);
  CHECK(r->drop_probability == 0.5);
  CHECK(r->duplicate_probability == 0.25);
  CHECK(r->delay_min_ms == 10);
  CHECK(r->delay_max_ms == 20);
  CHECK(r->rules == std::map<server_id, std::string>{{2, "a:1"}});
  CHECK(r->omission);
  CHECK(r->rotation_min_ms == 5000);
  CHECK(r->rotation_max_ms == 6000);
  CHECK(r->partitions == std::vector<std::vector<server_id>>{{1}});
  for (auto part : {"delay 10-20 ms", "drop 0.5", "duplicate 0.25",
                    "omission on", "rule 2 a:1", "partition {1} | {2, 3}"})
    CHECK(r->summary.find(part) != std::string::npos);
  for (uint64_t i = 1; i <= 100; ++i)
    send(sim, 2, 3, accept{{1, 2}, i, value::noop()});
  run_for(1s);
  CHECK(got->size() != 100);
  r = control(sim, ctl(sim_action::all_off));
  REQUIRE(r);
  CHECK(r->summary.rfind("no faults; forwarded ", 0) == 0);
  CHECK(r->faulty == 0);
  CHECK(r->rules.empty());
  CHECK(r->partitions.empty());
  got->clear();
  auto t0 = t_ms();
  for (uint64_t i = 1; i <= 100; ++i)
    send(sim, 2, 3, accept{{1, 2}, i, value::noop()});
  drain();
  REQUIRE(got->size() == 100);
  for (uint64_t i = 1; i <= 100; ++i) {
    CHECK((*got)[i - 1].tag == i);
    CHECK((*got)[i - 1].t_ms == t0);
  }
  CHECK(count_lines("\"action\":\"all_off\"") == 1);
}

TEST_CASE_METHOD(sim_fixture, "simulator: bad controls are refused with a "
                              "reason and change nothing") {
  auto sim = start(sim_options{});
  auto refused = [&](sim_control c, chat_errc code, const std::string& why) {
    auto r = control(sim, std::move(c));
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == caf::atom("cafchat"));
    CHECK(r.error().code() == static_cast<uint8_t>(code));
    INFO(describe(r.error()));
    CHECK(describe(r.error()).find(why) != std::string::npos);
  };
  refused(rule_for(1, "x:10"), chat_errc::invalid_fault, "unknown phase 'x'");
  refused(rule_for(1, "p:abc"), chat_errc::invalid_fault, "not a duration");
  refused(rule_for(1, "p:10::"), chat_errc::invalid_fault, "not of the form");
  refused(rule_for(1, ""), chat_errc::invalid_fault, "empty fault rule");
  refused(rule_for(9, "p:10"), chat_errc::unknown_server,
          "server 9 is not in the cluster (servers: 1, 2, 3)");
  refused(rule_for(0, "p:10"), chat_errc::invalid_fault, "0 is not a server");
  refused(probability(sim_action::drop, 1.5), chat_errc::invalid_fault,
          "drop probability 1.5 is not in [0, 1]");
  refused(probability(sim_action::duplicate, -0.1), chat_errc::invalid_fault,
          "duplicate probability -0.1");
  refused(probability(sim_action::drop,
                      std::numeric_limits<double>::quiet_NaN()),
          chat_errc::invalid_fault, "is not in [0, 1]");
  refused(range(sim_action::delay, 20, 10), chat_errc::invalid_fault,
          "delay minimum 20 ms is above the maximum 10 ms");
  refused(range(sim_action::delay, 0, 4000000), chat_errc::invalid_fault,
          "above the limit");
  refused(range(sim_action::omission, 5000, 1000), chat_errc::invalid_fault,
          "rotation minimum 5000 ms is above");
  refused(isolate(4), chat_errc::unknown_server, "server 4");
  refused(split({}), chat_errc::invalid_fault, "at least one server");
  refused(split({1, 2, 3}), chat_errc::invalid_fault, "other side empty");
  refused(split({1, 7}), chat_errc::unknown_server, "server 7");
  refused(ctl(static_cast<sim_action>(99)), chat_errc::invalid_fault,
          "unknown simulator action 99");
  auto r = control(sim, ctl(sim_action::query));
  REQUIRE(r);
  CHECK(r->summary == "no faults; forwarded 0, dropped 0, duplicated 0");
  CHECK(count_lines("\"kind\":\"control_refused\"") == 17);
  CHECK(reachable(*this, sim) == all_pairs);
}

TEST_CASE_METHOD(sim_fixture, "simulator: without a configured server list, "
                              "the announced servers are the known ones") {
  auto sim = start(sim_options{}, {});
  // Nothing announced yet: any server id is accepted.
  REQUIRE(control(sim, isolate(7)));
  server_info info;
  info.id = 1;
  info.incarnation = 1;
  info.front = own(sys.spawn([] { return caf::behavior{[](int) {}}; }));
  caf::anon_send(sim, peer_atom::value, info);
  drain();
  auto r = control(sim, isolate(7));
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()) == "server 7 is not in the cluster (servers: 1)");
  r = control(sim, ctl(sim_action::query));
  REQUIRE(r);
  CHECK(r->live == std::vector<server_id>{1});
}

TEST_CASE_METHOD(sim_fixture, "simulator: invalid options stop it at once") {
  sim_options o;
  o.drop_probability = 2;
  simulator_config sc;
  sc.opts = o;
  auto sim = sys.spawn(simulator_actor, sc);
  drain();
  auto r = control(sim, ctl(sim_action::query));
  CHECK_FALSE(r);
}
