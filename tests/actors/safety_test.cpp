// Safety under restarts and lost storage, as specifications (issue 10). Each
// scenario failed on 121f74a, where it was first written against that
// version's API; the failure each showed there is quoted above it.

#include <catch2/catch.hpp>

#include "tests/actors/paxos_group.hpp"
#include "tools/sim/harness.hpp"

using namespace cafchat;
using namespace cafchat::test;
using namespace std::chrono_literals;

namespace {

value val(const char* text) {
  return value::of({command{1, 1, "a", text}});
}

/// A newer incarnation of `info` without handles: the server is unreachable.
server_info hidden(server_info info) {
  ++info.incarnation;
  info.acceptor = info.proposer = info.learner = caf::actor{};
  return info;
}

void tell(const caf::actor& role, const server_info& info) {
  caf::anon_send(role, peer_atom::value, info);
}

proposer_actor_state* proposer_of(paxos_group& g, server_id id) {
  return cluster_harness::peek<proposer_actor_state>(g.info(id).proposer);
}

acceptor_actor_state* acceptor_of(paxos_group& g, server_id id) {
  return cluster_harness::peek<acceptor_actor_state>(g.info(id).acceptor);
}

/// Spawns a new proposer for `id` that sends only to `reach`, and tells
/// every acceptor and learner about it.
caf::actor respawn_proposer(det_fixture& fx, paxos_group& g, server_id id,
                            std::vector<server_id> reach) {
  g.spawn_proposer(id);
  ++g.info(id).incarnation;
  for (auto s : g.ids()) {
    tell(g.info(s).acceptor, g.info(id));
    tell(g.info(s).learner, g.info(id));
  }
  auto p = g.info(id).proposer;
  for (auto s : reach)
    tell(p, g.info(s));
  fx.drain(); // its acceptor tells it that it may campaign
  return p;
}

/// Kills every proposer, so a test decides who runs and when.
void silence_proposers(det_fixture& fx, paxos_group& g) {
  for (auto id : g.ids())
    g.kill(g.info(id).proposer);
  fx.drain();
}

} // namespace

// 121f74a: "learner 1 delivered B in slot 1, learner 2 delivered A": acceptor
// 2 answered `accepted` to B while it held A at (1,1), and its bare decide
// chose A.
TEST_CASE_METHOD(det_fixture, "safety: a proposer that reuses a ballot cannot "
                              "make two servers deliver different values") {
  paxos_group g{*this, 3, test_params(false)};
  silence_proposers(*this, g);
  // The old incarnation of proposer 1: an accept at (1,1) that reaches
  // acceptor 2 only. Its ballot round was never stored (a proposer that
  // forgot it, the way 121f74a's all did).
  caf::anon_send(g.info(2).acceptor, accept{{1, 1}, 1, val("A")});
  drain();
  REQUIRE(g.disk(2).acceptor->load().accepted.size() == 1);
  // The restarted proposer 1 reaches acceptors 1 and 3 for phase 1 ...
  auto p = respawn_proposer(*this, g, 1, {1, 3});
  caf::anon_send(p, campaign_atom::value);
  REQUIRE(run_until(
    [&] { return proposer_of(g, 1)->core->role() == proposer_role::leader; },
    1s));
  CHECK(proposer_of(g, 1)->core->current_ballot() == ballot{1, 1});
  // ... and acceptors 1 and 2 for phase 2.
  tell(p, g.info(2));
  tell(p, hidden(g.info(3)));
  caf::anon_send(p, submit{{command{7, 1, "c", "B"}}});
  run_for(60ms);
  // Acceptor 2 refused the second value at (1,1): nothing is chosen yet.
  CHECK(g.learned(2).empty());
  CHECK(g.disk(2).acceptor->load().accepted.at(1).val == val("A"));
  // With acceptor 3 back, B is chosen, and every learner delivers B.
  g.info(3).incarnation += 2;
  tell(p, g.info(3));
  REQUIRE(run_until([&] {
    return !g.learned(1).empty() && !g.learned(2).empty()
           && !g.learned(3).empty();
  }, 5s));
  for (auto id : g.ids())
    CHECK(text_of(g.learned(id).at(0)) == "B");
  // The global view saw the reused ballot for what it is.
  CHECK(g.violation().find("one value per ballot") != std::string::npos);
}

// 121f74a: "the restarted proposer's first prepare was at (1,1) again".
TEST_CASE_METHOD(det_fixture, "safety: a restarted proposer campaigns above "
                              "every ballot it used before") {
  paxos_group g{*this, 3, test_params(false)};
  caf::anon_send(g.info(1).proposer, campaign_atom::value);
  REQUIRE(run_until(
    [&] { return proposer_of(g, 1)->core->role() == proposer_role::leader; },
    1s));
  auto old = proposer_of(g, 1)->core->current_ballot();
  silence_proposers(*this, g);
  respawn_proposer(*this, g, 1, g.ids());
  caf::anon_send(g.info(1).proposer, campaign_atom::value);
  drain();
  auto first = proposer_of(g, 1)->core->current_ballot();
  CHECK(first > old);
  CHECK(first.round == old.round + 1);
  INFO(g.violation());
  CHECK(g.violation().empty());
}

namespace {

/// Five servers: D (4) leads at a ballot promised by A (1), D and E (5)
/// only, and chooses "v" in slot 1. Then A loses its disk.
void choose_v_then_wipe_a(det_fixture& fx, paxos_group& g) {
  silence_proposers(fx, g);
  auto d = respawn_proposer(fx, g, 4, {1, 4, 5});
  caf::anon_send(d, submit{{command{1, 1, "d", "v"}}});
  REQUIRE(fx.run_until([&] { return g.learned(4).size() == 1; }, 5s));
  REQUIRE(text_of(g.learned(4).at(0)) == "v");
  g.kill(g.info(1).acceptor);
  g.kill(g.info(1).learner);
  fx.drain();
  g.wipe(1);
  g.spawn_acceptor(1);
  g.spawn_learner(1);
  ++g.info(1).incarnation;
}

} // namespace

// 121f74a: "B learned w in slot 1, D learned v": A probed nobody, voted after
// its probe window with empty state, and B's phase 1 with A, B and C chose w.
TEST_CASE_METHOD(det_fixture, "safety: a wiped acceptor that cannot reach a "
                              "majority of voting peers never votes") {
  paxos_group g{*this, 5, test_params(false)};
  choose_v_then_wipe_a(*this, g);
  // A reaches B and C only: two voting peers, not three.
  for (auto s : {2u, 3u}) {
    tell(g.info(1).acceptor, g.info(s));
    tell(g.info(s).acceptor, g.info(1));
  }
  run_for(5s);
  CHECK(acceptor_of(g, 1)->core->mode() == acceptor_mode::rejoining);
  CHECK_FALSE(acceptor_of(g, 1)->core->waiting_for().empty());
  // B's phase 1 with A, B and C cannot complete: A does not answer.
  auto b = respawn_proposer(*this, g, 2, {1, 2, 3});
  caf::anon_send(b, submit{{command{2, 1, "b", "w"}}});
  run_for(5s);
  CHECK(g.learned(2).empty());
  INFO(g.violation());
  CHECK(g.violation().empty());
}

// The second way 121f74a's recovery broke (a slow accept from an old ballot
// counted as "an instance begun after the restart"): there B's phase 1 with
// A, B and C chose w over v. Now A rejoins through B, C and D, adopts v from
// D, and reports it.
TEST_CASE_METHOD(det_fixture, "safety: a wiped acceptor rejoins through a "
                              "majority and reports what it had accepted") {
  paxos_group g{*this, 5, test_params(false)};
  choose_v_then_wipe_a(*this, g);
  for (auto s : {1u, 2u, 3u, 4u}) {
    tell(g.info(1).acceptor, g.info(s));
    tell(g.info(s).acceptor, g.info(1));
    tell(g.info(1).learner, g.info(s));
  }
  // A slow accept of an old ballot reaches A while it rejoins.
  caf::anon_send(g.info(1).acceptor, accept{{1, 2}, 1, val("w")});
  REQUIRE(run_until([&] {
    return acceptor_of(g, 1)->core->mode() == acceptor_mode::voting;
  }, 5s));
  auto& a = *acceptor_of(g, 1)->core;
  CHECK(a.meta().epoch >= 1);
  // B reaches A, B and C: A is its only link to v.
  auto b = respawn_proposer(*this, g, 2, {1, 2, 3});
  caf::anon_send(b, submit{{command{2, 1, "b", "w"}}});
  REQUIRE(run_until([&] { return g.learned(2).size() == 2; }, 5s));
  CHECK(text_of(g.learned(2).at(0)) == "v");
  CHECK(text_of(g.learned(2).at(1)) == "w");
  INFO(g.violation());
  CHECK(g.violation().empty());
}

TEST_CASE_METHOD(det_fixture, "safety: a proposer whose server lost its disk "
                              "does not campaign before its acceptor rejoined") {
  paxos_group g{*this, 3, test_params(false)};
  silence_proposers(*this, g);
  g.kill(g.info(1).acceptor);
  drain();
  g.wipe(1);
  g.spawn_acceptor(1);
  ++g.info(1).incarnation;
  // Its acceptor reaches nobody; its proposer reaches everyone.
  auto p = respawn_proposer(*this, g, 1, g.ids());
  caf::anon_send(p, campaign_atom::value);
  run_for(3s);
  CHECK(proposer_of(g, 1)->core->role() == proposer_role::follower);
  CHECK(proposer_of(g, 1)->core->current_ballot().is_zero());
  // Once it can rejoin, the proposer runs above the rejoin ballot.
  for (auto s : g.ids()) {
    tell(g.info(1).acceptor, g.info(s));
    tell(g.info(s).acceptor, g.info(1));
  }
  REQUIRE(run_until([&] {
    return acceptor_of(g, 1)->core->mode() == acceptor_mode::voting;
  }, 5s));
  auto rejoined_at = acceptor_of(g, 1)->core->promised();
  caf::anon_send(p, campaign_atom::value);
  REQUIRE(run_until(
    [&] { return proposer_of(g, 1)->core->role() == proposer_role::leader; },
    5s));
  CHECK(proposer_of(g, 1)->core->current_ballot() > rejoined_at);
  INFO(g.violation());
  CHECK(g.violation().empty());
}
