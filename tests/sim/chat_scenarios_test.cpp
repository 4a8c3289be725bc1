// The replicated chat, whole clusters on CAF's test coordinator: clients,
// crashes, restarts, lost storage, reroutes and network faults, each scenario
// named as a specification.

#include <catch2/catch.hpp>

#include "tools/sim/harness.hpp"

#include <set>

#include "messages/errors.hpp"

using namespace cafchat;
using namespace cafchat::test;
using namespace std::chrono_literals;

namespace {

harness_options opts(size_t servers = 3) {
  harness_options o;
  o.servers = servers;
  o.params = sim_params();
  return o;
}

/// Starts the cluster and connects every client; returns when chat works.
void warm_up(det_fixture& fx, cluster_harness& h) {
  REQUIRE(fx.run_until(
    [&] {
      for (auto& c : h.clients)
        if (h.server_of(*c) == 0)
          return false;
      return h.leader() != 0;
    },
    10s));
}

void require_consistent(cluster_harness& h) {
  auto err = check_histories(h);
  INFO(err);
  REQUIRE(err.empty());
}

} // namespace

TEST_CASE_METHOD(det_fixture, "chat: clients see one history, in one order, "
                              "each message once") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  warm_up(*this, h);
  for (int i = 0; i < 10; ++i) {
    h.say(alice, "a" + std::to_string(i));
    h.say(bob, "b" + std::to_string(i));
  }
  REQUIRE(h.settle(10s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 20);
  // The load balancer spread the two clients over two servers.
  CHECK(h.server_of(alice) != h.server_of(bob));
}

TEST_CASE_METHOD(det_fixture, "chat: the load balancer serves clients only "
                              "once every configured server registered, refuses "
                              "unknown server ids, and picks the least loaded") {
  load_balancer_config lc;
  lc.servers = {1, 2, 3};
  auto lb = own(sys.spawn(load_balancer, lc));
  auto fake = [&](server_id id) {
    server_info info;
    info.id = id;
    info.incarnation = 1;
    info.front = own(sys.spawn([] { return caf::behavior{[](int) {}}; }));
    return register_server{info, info.front};
  };
  auto client = [&](uint64_t id) {
    auto actor = own(sys.spawn([] { return caf::behavior{[](int) {}}; }));
    return assign_request{"client-key-" + std::to_string(100000 + id),
                          "c" + std::to_string(id), actor, 0};
  };
  CHECK(ask<bool>(lb, fake(1)) == true);
  CHECK(ask<bool>(lb, fake(2)) == true);
  auto early = ask<assignment>(lb, client(1));
  REQUIRE_FALSE(early);
  CHECK(describe(early.error()) == "waiting for servers 3 to register");
  auto stranger = ask<bool>(lb, fake(9));
  REQUIRE_FALSE(stranger);
  CHECK(describe(stranger.error()).find("server id 9 is not in the "
                                        "configuration")
        != std::string::npos);
  CHECK(ask<bool>(lb, fake(3)) == true);
  std::map<server_id, int> load;
  for (uint64_t c = 1; c <= 6; ++c) {
    auto a = ask<assignment>(lb, client(c));
    REQUIRE(a);
    ++load[a->server.id];
  }
  CHECK(load == std::map<server_id, int>{{1, 2}, {2, 2}, {3, 2}});
}

TEST_CASE_METHOD(det_fixture, "chat: a server with clients dies, its clients "
                              "reroute and chat goes on") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  warm_up(*this, h);
  h.say(alice, "before");
  REQUIRE(h.settle(5s));
  auto lost = h.server_of(alice);
  h.kill(lost);
  h.say(alice, "during");
  h.say(bob, "also during");
  REQUIRE(h.settle(10s));
  CHECK(h.server_of(alice) != lost);
  CHECK(h.server_of(alice) != 0);
  CHECK(alice.rec->count(notice_kind::server_lost) == 1);
  CHECK(alice.rec->count(notice_kind::connected) == 2);
  h.say(alice, "after");
  REQUIRE(h.settle(5s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 4);
}

TEST_CASE_METHOD(det_fixture, "chat: a server with no client dies, chat goes "
                              "on") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  server_id idle = 0;
  for (server_id id = 1; id <= 3; ++id)
    if (id != h.server_of(alice))
      idle = id;
  h.kill(idle);
  for (int i = 0; i < 5; ++i)
    h.say(alice, "m" + std::to_string(i));
  REQUIRE(h.settle(10s));
  CHECK(alice.rec->count(notice_kind::server_lost) == 0);
  require_consistent(h);
}

TEST_CASE_METHOD(det_fixture, "chat: the leader dies, then a second leader "
                              "dies (f = 2)") {
  cluster_harness h{*this, opts(5)};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  warm_up(*this, h);
  h.say(alice, "one");
  REQUIRE(h.settle(5s));
  auto first = h.leader();
  h.kill(first);
  h.say(bob, "two");
  REQUIRE(h.settle(10s));
  auto second = h.leader();
  REQUIRE(second != 0);
  CHECK(second != first);
  h.kill(second);
  h.say(alice, "three");
  h.say(bob, "four");
  REQUIRE(h.settle(10s));
  CHECK(h.leader() != 0);
  CHECK(h.leader() != first);
  CHECK(h.leader() != second);
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 4);
}

TEST_CASE_METHOD(det_fixture, "chat: a dead server restarts and catches up, then "
                              "a new client on it receives the whole history") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  warm_up(*this, h);
  // The server without a client goes down (it may be the leader).
  server_id victim = 6 - h.server_of(alice) - h.server_of(bob);
  h.kill(victim);
  for (int i = 0; i < 30; ++i)
    h.say(alice, "while down " + std::to_string(i));
  REQUIRE(h.settle(10s));
  CHECK(h.history(victim).size() < 30);
  h.restart(victim);
  REQUIRE(run_until([&] { return h.history(victim).size() == 30; }, 10s));
  // A new client is placed on the restarted server (fewest clients) and gets
  // the history from it.
  auto& carol = h.add_client("carol");
  REQUIRE(run_until([&] { return carol.rec->entries.size() == 30; }, 10s));
  CHECK(h.server_of(carol) == victim);
  require_consistent(h);
}

TEST_CASE_METHOD(det_fixture, "chat: a restarted server keeps its acceptor "
                              "state") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  h.say(alice, "x");
  REQUIRE(h.settle(5s));
  auto before = h.disks.at(1).acceptor->load();
  REQUIRE_FALSE(before.promised.is_zero());
  h.kill(1);
  run_for(1s);
  h.restart(1);
  run_for(1s);
  auto after = h.disks.at(1).acceptor->load();
  CHECK(after.promised >= before.promised);
  for (auto& [slot, a] : before.accepted) {
    REQUIRE(after.accepted.count(slot) == 1);
    CHECK(after.accepted[slot].bal >= a.bal);
  }
}

TEST_CASE_METHOD(det_fixture, "chat: a skipped slot is filled with a no-op") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  h.say(alice, "first");
  REQUIRE(h.settle(5s));
  auto leader = h.leader();
  h.skip_slot(leader);
  drain();
  h.say(alice, "second");
  h.say(alice, "third");
  REQUIRE(h.settle(10s));
  require_consistent(h);
  // Somewhere in the log there is a no-op that filled the hole.
  auto slots = h.disks.at(leader).learner->decided(1, 1000);
  size_t noops = 0;
  for (auto& d : slots)
    noops += d.val.is_noop();
  CHECK(noops >= 1);
  CHECK(alice.rec->entries.size() == 3);
}

TEST_CASE_METHOD(det_fixture, "chat: a message retried after a reroute "
                              "appears once") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  // Alice's server must not be the leader, so her message can be chosen by
  // the others while her own server dies before it tells her.
  server_id mine = h.server_of(alice);
  if (mine == h.leader()) {
    h.kill(mine);
    REQUIRE(run_until([&] { return h.server_of(alice) != 0
                                   && h.server_of(alice) != mine
                                   && h.leader() != 0
                                   && h.leader() != h.server_of(alice); },
                      10s));
    mine = h.server_of(alice);
  }
  h.say(alice, "exactly once");
  // Once the leader has the command in flight, Alice's server dies: the
  // other two acceptors still choose it, but Alice never hears back from her
  // server, so she resends it through her new one.
  auto leader = h.leader();
  REQUIRE(run_until_step(
    [&] {
      auto p = h.proposer(leader);
      return p != nullptr && p->in_flight() > 0;
    },
    5s));
  h.kill(mine);
  REQUIRE(h.settle(10s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 1);
  CHECK(h.history(leader).size() == 1);
  // Alice did resend it; it was ordered once or twice (a resend that meets
  // the entry already in the new session's history is answered there), and
  // applied once either way.
  CHECK(alice.rec->count(notice_kind::server_lost) == 1);
  size_t copies = 0;
  for (auto& d : h.disks.at(leader).learner->decided(1, 1000))
    for (auto& c : d.val.commands)
      copies += c.text == "exactly once";
  CHECK(copies >= 1);
}

TEST_CASE_METHOD(det_fixture, "chat: with f+1 servers down nothing is decided, and "
                              "progress resumes when one returns") {
  cluster_harness h{*this, opts()};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  h.say(alice, "before");
  REQUIRE(h.settle(5s));
  auto mine = h.server_of(alice);
  std::vector<server_id> down;
  for (server_id id = 1; id <= 3; ++id)
    if (id != mine)
      down.push_back(id);
  for (auto id : down)
    h.kill(id);
  h.say(alice, "stuck");
  run_for(30s);
  CHECK(alice.rec->acked == 1);
  CHECK(h.history(mine).size() == 1);
  require_consistent(h);
  h.restart(down.front());
  REQUIRE(h.settle(20s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 2);
}

TEST_CASE_METHOD(det_fixture, "chat: an oversize or invalid message is refused "
                              "and the client goes on") {
  auto o = opts();
  o.params.max_text_bytes = 16;
  cluster_harness h{*this, o};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  // The client refuses it before it takes a sequence number.
  caf::anon_send(alice.actor, say_atom::value, std::string(17, 'x'));
  caf::anon_send(alice.actor, say_atom::value, std::string("\xff\xfe"));
  h.say(alice, "fits");
  REQUIRE(h.settle(5s));
  CHECK(alice.rec->entries.size() == 1);
  require_consistent(h);
}

TEST_CASE_METHOD(det_fixture, "chat: with 20% of peer messages lost, random "
                              "delays and duplicates, every message is "
                              "delivered once, in one order") {
  auto o = opts();
  o.simulator = true;
  o.sim.seed = 7;
  o.sim.drop_probability = 0.2;
  o.sim.duplicate_probability = 0.1;
  o.sim.delay_min_ms = 1;
  o.sim.delay_max_ms = 30;
  cluster_harness h{*this, o};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  auto& carol = h.add_client("carol");
  warm_up(*this, h);
  // Messages keep coming for 5 s of simulated time, so the faults hit every
  // part of the protocol: elections, phase 2, decides and catch-up.
  for (int i = 0; i < 50; ++i) {
    h.say(alice, "a" + std::to_string(i));
    h.say(bob, "b" + std::to_string(i));
    h.say(carol, "c" + std::to_string(i));
    run_for(100ms);
  }
  REQUIRE(h.settle(60s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 150);
  CHECK(bob.rec->entries.size() == 150);
  CHECK(carol.rec->entries.size() == 150);
  // Every server's learner gets there too (by decide or by catch-up).
  REQUIRE(run_until(
    [&] {
      for (server_id id = 1; id <= 3; ++id)
        if (h.history(id).size() != 150)
          return false;
      return true;
    },
    30s));
  require_consistent(h);
  // The faults really were injected.
  auto sim = cluster_harness::peek<simulator_state>(h.sim);
  REQUIRE(sim != nullptr);
  CHECK(sim->counters().dropped_random > 100);
  CHECK(sim->counters().duplicated > 50);
  CHECK(sim->model->live_servers() == std::vector<server_id>{1, 2, 3});
}

TEST_CASE_METHOD(det_fixture, "chat: one omission-faulty server at a time, "
                              "moving every 2 to 4 s: every message is "
                              "delivered once, in one order") {
  auto o = opts();
  o.simulator = true;
  o.sim.seed = 3;
  o.sim.delay_min_ms = 1;
  o.sim.delay_max_ms = 20;
  o.sim.omission = true;
  o.sim.rotation_min_ms = 2000;
  o.sim.rotation_max_ms = 4000;
  // Shared with the sink, which may still be called during teardown.
  auto faults = std::make_shared<std::vector<std::string>>();
  o.sim_log = event_log::to_sink([faults](const std::string& line) {
    if (line.find("\"kind\":\"omission\"") != std::string::npos)
      faults->push_back(line);
  });
  cluster_harness h{*this, o};
  auto& alice = h.add_client("alice");
  auto& bob = h.add_client("bob");
  auto& carol = h.add_client("carol");
  warm_up(*this, h);
  std::set<server_id> faulty;
  auto sim = cluster_harness::peek<simulator_state>(h.sim);
  REQUIRE(sim != nullptr);
  for (int i = 0; i < 100; ++i) {
    h.say(alice, "a" + std::to_string(i));
    h.say(bob, "b" + std::to_string(i));
    h.say(carol, "c" + std::to_string(i));
    run_for(200ms);
    faulty.insert(sim->faulty());
  }
  REQUIRE(h.settle(60s));
  require_consistent(h);
  CHECK(alice.rec->entries.size() == 300);
  // The fault visited every server, and each move is in the event log.
  CHECK(faulty == std::set<server_id>{1, 2, 3});
  CHECK(faults->size() >= 5);
  CHECK(sim->counters().dropped_omission > 500);
}

// Bug 2d of issue 10 (failed on 121f74a: "fits" was never delivered; the
// refused message stayed pending and the state machine skipped every later
// seq of the client).
TEST_CASE_METHOD(det_fixture, "chat: a message a server refuses is withdrawn, "
                              "and the client's later messages flow") {
  auto o = opts();
  o.params.max_text_bytes = 16;
  o.client_max_text_bytes = 1000; // until it hears the cluster's limit
  cluster_harness h{*this, o};
  auto& big = h.add_client("big");
  // Said before the client knows the cluster's limit: it takes both.
  h.say(big, std::string(40, 'x'));
  h.say(big, "fits");
  REQUIRE(h.settle(10s));
  REQUIRE(big.rec->entries.size() == 1);
  CHECK(big.rec->entries[0].text == "fits");
  CHECK(big.rec->entries[0].seq == 2);
  CHECK(big.rec->count(notice_kind::rejected) == 1);
  CHECK(big.rec->withdrawn == std::set<uint64_t>{1});
  CHECK(h.history(1).size() == 1);
  require_consistent(h);
  // Now it knows the limit and refuses at once, without a seq.
  auto r = ask<uint64_t>(big.actor, say_atom::value, std::string(17, 'y'));
  CHECK_FALSE(r);
}

TEST_CASE_METHOD(det_fixture, "chat: after a reroute to a server with a smaller "
                              "limit, each message is delivered once or "
                              "withdrawn, in order") {
  auto o = opts();
  o.params.max_text_bytes = 100;
  o.max_text_bytes = {{2, 16}, {3, 16}}; // only server 1 takes long messages
  o.simulator = true;
  cluster_harness h{*this, o};
  auto& alice = h.add_client("alice");
  warm_up(*this, h);
  // Move alice to server 1: crash whichever server she is on until she is.
  for (int i = 0; i < 10 && h.server_of(alice) != 1; ++i) {
    auto on = h.server_of(alice);
    h.kill(on);
    REQUIRE(run_until([&] { return h.server_of(alice) != 0; }, 5s));
    h.restart(on);
    run_for(500ms);
  }
  REQUIRE(h.server_of(alice) == 1);
  // Long messages reach server 1 while it is cut off from its peers, so
  // none is ordered; then it dies, and a stricter server refuses them.
  sim_control cut;
  cut.action = sim_action::isolate;
  cut.server = 1;
  caf::anon_send(h.sim, cut);
  drain();
  for (int i = 0; i < 10; ++i)
    h.say(alice, "a fairly long message, number " + std::to_string(i));
  run_for(50ms);
  h.kill(1);
  sim_control heal;
  heal.action = sim_action::heal;
  caf::anon_send(h.sim, heal);
  for (int i = 0; i < 5; ++i)
    h.say(alice, "short " + std::to_string(i));
  REQUIRE(h.settle(20s));
  require_consistent(h);
  size_t shorts = 0;
  for (auto& e : alice.rec->entries)
    shorts += e.text.rfind("short", 0) == 0;
  CHECK(shorts == 5);
  CHECK(alice.rec->withdrawn.size() == 10);
  CHECK(alice.rec->entries.size() == 5);
}

// Issue 16: the fault regime of prior system 000, with cafchat's default
// settings (10 ms ticks, heartbeat 50 ms, elections after 0.5-1 s, retries
// after 100 ms): every message between servers waits U[1 s, 60 s], and an
// omission fault moves to another server every 3 to 5 minutes. With fixed
// LAN timeouts no leader was ever elected; with timeouts that follow the
// network every message is delivered.
TEST_CASE_METHOD(det_fixture, "chat: delays of 1 s to 1 min and an omission "
                              "fault rotating every 3 to 5 min deliver "
                              "every message with default settings") {
  harness_options o;
  o.servers = 3;
  o.params = server_params{}; // the defaults of configs/single-host.ini
  o.params.set_check_invariants(true);
  o.client_retry_ms = 1000;
  o.simulator = true;
  o.sim.seed = 0;
  o.sim.delay_min_ms = 1000;
  o.sim.delay_max_ms = 60000;
  o.sim.omission = true;
  o.sim.rotation_min_ms = 180000;
  o.sim.rotation_max_ms = 300000;
  cluster_harness h{*this, o};
  auto& a = h.add_client("alice");
  auto& b = h.add_client("bob");
  for (int i = 0; i < 10; ++i) {
    h.say(a, "a" + std::to_string(i));
    h.say(b, "b" + std::to_string(i));
    run_for(5s);
  }
  auto start = now();
  REQUIRE(h.settle(std::chrono::hours(3)));
  auto took = std::chrono::duration_cast<std::chrono::minutes>(now() - start);
  INFO("settled " << took.count() << " simulated minutes after the last line");
  CHECK(a.rec->entries.size() == 20);
  CHECK(b.rec->entries.size() == 20);
  require_consistent(h);
  CHECK(h.monitor->violation().empty());
}
