// The network-fault simulator on CAF's test coordinator (the fixture:
// simulator_fixture.hpp), the faults of the whole network: the rotating
// omission-faulty server, partitions, runtime control and refused controls,
// and invalid options.

#include <catch2/catch.hpp>

#include "tests/sim/simulator_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "actors/common/actor_util.hpp"
#include "messages/errors.hpp"

using namespace cafchat;
using namespace cafchat::test;
using namespace std::chrono_literals;

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
