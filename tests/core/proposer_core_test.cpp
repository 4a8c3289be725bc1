#include <catch2/catch.hpp>

#include "actors/proposer/proposer_core.hpp"
#include "tests/core/helpers.hpp"
#include "tests/core/proposer_helpers.hpp"

// The proposer core's phases: phase 1 (a fresh ballot, promises, adopted
// values, durable rounds, lost storage), phase 2 (choosing, batching, the
// window, holes, times). Leader election and timers:
// proposer_election_test.cpp.

using namespace cafchat;
using namespace cafchat::test;

TEST_CASE("proposer: phase 1 prepares a fresh ballot for every open slot") {
  proposer_core p{opts(2), proposer_state{0, 5}};
  auto out = p.campaign();
  CHECK(p.role() == proposer_role::candidate);
  auto prep = sent_envelopes<prepare>(out.send);
  REQUIRE(prep.size() == 1);
  CHECK(prep[0].to == all_servers);
  auto& msg = std::get<prepare>(prep[0].msg);
  CHECK(msg.bal == ballot{1, 2});
  CHECK(msg.first_slot == 6); // slots up to 5 are known chosen
}

// Paxos Made Simple, 2.2: a proposer that received promises from a majority
// proposes, per slot, "the value of the highest-numbered proposal among the
// responses, or is any value selected by the proposer if the responders
// reported no proposals".
TEST_CASE("proposer: a new leader adopts the highest-ballot value per slot "
          "and fills holes with no-ops") {
  proposer_core p{opts(1)};
  auto out = p.campaign();
  auto b = sent<prepare>(out.send).at(0).bal;
  auto a = batch_of({cmd(7, 1, "a")});
  auto bb = batch_of({cmd(8, 1, "b")});
  auto c = batch_of({cmd(9, 1, "c")});
  p.handle(promise{b, 2, 1, {{1, {1, 2}, a}, {3, {1, 2}, c}}, 0, {}});
  CHECK(p.role() == proposer_role::candidate);
  auto lead = p.handle(promise{b, 3, 1, {{1, {0, 3}, bb}}, 0, {}});
  CHECK(p.role() == proposer_role::leader);
  auto accepts = sent<accept>(lead.send);
  REQUIRE(accepts.size() == 3);
  CHECK(accepts[0].slot == 1);
  CHECK(accepts[0].val == a);       // (1,2) beats (0,3)
  CHECK(accepts[1].slot == 2);
  CHECK(accepts[1].val.is_noop());  // a hole
  CHECK(accepts[2].slot == 3);
  CHECK(accepts[2].val == c);
  for (auto& x : accepts)
    CHECK(x.bal == b);
  CHECK(p.next_slot() == 4);
  CHECK(sent<heartbeat>(lead.send).size() == 1); // announces itself at once
}

TEST_CASE("proposer: promises for another ballot or from the same acceptor "
          "do not make a majority") {
  proposer_core p{opts(1)};
  auto b = sent<prepare>(p.campaign().send).at(0).bal;
  p.handle(promise{b, 2, 1, {}, 0, {}});
  p.handle(promise{b, 2, 1, {}, 0, {}});             // duplicate
  p.handle(promise{ballot{9, 3}, 3, 1, {}, 0, {}});  // someone else's ballot
  CHECK(p.role() == proposer_role::candidate);
  p.handle(promise{b, 3, 1, {}, 0, {}});
  CHECK(p.role() == proposer_role::leader);
}

TEST_CASE("proposer: a majority of accepted in one ballot chooses the value") {
  proposer_core p{opts(1)};
  elect(p);
  auto out = p.submit({cmd(5, 1)});
  auto acc = sent<accept>(out.send);
  REQUIRE(acc.size() == 1);
  auto b = acc[0].bal;
  CHECK(sent<decide>(p.handle(accepted{b, acc[0].slot, 2}).send).empty());
  // the same acceptor again, or another ballot, is not a majority
  CHECK(sent<decide>(p.handle(accepted{b, acc[0].slot, 2}).send).empty());
  CHECK(sent<decide>(p.handle(accepted{{0, 3}, acc[0].slot, 3}).send).empty());
  auto done = p.handle(accepted{b, acc[0].slot, 3});
  auto d = sent_envelopes<decide>(done.send);
  REQUIRE(d.size() == 3); // one per server
  for (auto& e : d) {
    auto& dec = std::get<decide>(e.msg);
    INFO("to server " << e.to);
    CHECK(dec.slot == acc[0].slot);
    CHECK(dec.bal == b);
    if (e.to == 1) {
      // Its acceptor did not vote: the value in full.
      CHECK_FALSE(dec.bare);
      CHECK(dec.val == batch_of({cmd(5, 1)}));
    } else {
      // Its acceptor accepted this value at b: the slot and ballot suffice.
      CHECK(dec.bare);
      CHECK(dec.val.commands.empty());
    }
  }
  CHECK(p.chosen_upto() == acc[0].slot);
  CHECK(p.in_flight() == 0);
}

TEST_CASE("proposer: the leader's own learner gets every chosen value in "
          "full, even when its acceptor voted") {
  proposer_core p{opts(1)};
  elect(p);
  auto acc = sent<accept>(p.submit({cmd(5, 1)}).send);
  REQUIRE(acc.size() == 1);
  auto b = acc[0].bal;
  p.handle(accepted{b, acc[0].slot, 1});
  auto d = sent_envelopes<decide>(p.handle(accepted{b, acc[0].slot, 2}).send);
  REQUIRE(d.size() == 3);
  for (auto& e : d) {
    auto& dec = std::get<decide>(e.msg);
    INFO("to server " << e.to);
    CHECK(dec.bare == (e.to == 2));
    if (!dec.bare)
      CHECK(dec.val == batch_of({cmd(5, 1)}));
  }
}

TEST_CASE("proposer: the window bounds slots in flight, and waiting commands "
          "go out in batches") {
  proposer_core p{opts(1, false, /*window*/ 2, /*batch*/ 3)};
  elect(p);
  auto out = p.submit({cmd(1, 1)});
  out = p.submit({cmd(1, 2)});
  CHECK(p.in_flight() == 2);
  // The window is full: these wait and form one batch later.
  p.submit({cmd(1, 3), cmd(1, 4), cmd(1, 5), cmd(1, 6)});
  CHECK(p.in_flight() == 2);
  CHECK(p.pending() == 4);
  auto b = p.current_ballot();
  p.handle(accepted{b, 1, 1});
  p.handle(accepted{b, 1, 2});
  // The window counts from what the local learner holds.
  auto freed = p.handle(learned_for_proposer{1});
  auto acc = sent<accept>(freed.send);
  REQUIRE(acc.size() == 1);
  CHECK(acc[0].val.commands.size() == 3); // batch_max
  CHECK(p.pending() == 1);
}

TEST_CASE("proposer: a lone command goes out at once, without waiting for a "
          "batch to fill") {
  proposer_core p{opts(1, false, 4, 100)};
  elect(p);
  auto acc = sent<accept>(p.submit({cmd(1, 1)}).send);
  REQUIRE(acc.size() == 1);
  CHECK(acc[0].val.commands.size() == 1);
}

TEST_CASE("proposer: a skipped slot is filled with a no-op") {
  proposer_core p{opts(1)};
  elect(p);
  CHECK(p.skip_slot());
  auto acc = sent<accept>(p.submit({cmd(1, 1)}).send);
  REQUIRE(acc.size() == 1);
  CHECK(acc[0].slot == 2); // slot 1 left empty
  std::vector<accept> filled;
  for (int i = 0; i < 3; ++i)
    for (auto& a : sent<accept>(p.tick().send))
      if (a.slot == 1)
        filled.push_back(a);
  REQUIRE(filled.size() == 1);
  CHECK(filled[0].val.is_noop());
}

TEST_CASE("proposer: learned slots are never proposed again") {
  proposer_core p{opts(1)};
  p.handle(learned_for_proposer{10});
  auto prep = sent<prepare>(p.campaign().send);
  CHECK(prep.at(0).first_slot == 11);
  p.handle(promise{prep[0].bal, 1, 11, {}, 0, {}});
  auto lead = p.handle(promise{prep[0].bal, 2, 11, {}, 0, {}});
  CHECK(p.next_slot() == 11);
  CHECK(sent<accept>(p.submit({cmd(1, 1)}).send).at(0).slot == 11);
}

TEST_CASE("proposer: a batch is stamped with the time its caller gives, "
          "never earlier than what was learned or stamped before") {
  proposer_core p{opts(1, false, 8)};
  p.handle(learned_for_proposer{0, 5000}); // the last entry our learner holds is from 5000
  elect(p);
  auto stamped = [&](uint64_t now, uint64_t seq) {
    p.set_time(now);
    auto acc = sent<accept>(p.submit({cmd(5, seq)}).send);
    REQUIRE(acc.size() == 1);
    return acc[0].val.time_ms;
  };
  CHECK(stamped(4000, 1) == 5000); // our clock is behind the history's
  CHECK(stamped(7000, 2) == 7000);
  CHECK(stamped(6000, 3) == 7000); // our clock went back
  CHECK(p.time_floor() == 7000);
  // A resend is the same value, time and all.
  p.set_time(9000);
  value resent;
  for (int i = 0; i < 50 && resent.commands.empty(); ++i)
    for (auto& a : sent<accept>(p.tick().send))
      if (a.slot == 1)
        resent = a.val;
  CHECK(resent.time_ms == 5000);
}

TEST_CASE("proposer: a re-proposed value keeps its time, and the new "
          "leader's batches come no earlier") {
  proposer_core p{opts(1)};
  p.set_time(1000);
  auto b = sent<prepare>(p.campaign().send).at(0).bal;
  // An earlier leader's batch, stamped by a clock ahead of ours.
  auto old = value::of({cmd(7, 1, "a")}, 9000);
  p.handle(promise{b, 2, 1, {{2, {0, 2}, old}}, 0, {}});
  auto lead = p.handle(promise{b, 3, 1, {}, 0, {}});
  auto acc = sent<accept>(lead.send);
  REQUIRE(acc.size() == 2);
  CHECK(acc[0].val.is_noop()); // the hole at slot 1: no time
  CHECK(acc[0].val.time_ms == 0);
  CHECK(acc[1].val == old);
  auto next = sent<accept>(p.submit({cmd(8, 1)}).send);
  REQUIRE(next.size() == 1);
  CHECK(next[0].val.time_ms == 9000);
}

TEST_CASE("proposer: with the time rule broken, batches take the clock "
          "alone") {
  auto o = opts(1);
  o.break_time_rule = true;
  proposer_core p{o};
  p.handle(learned_for_proposer{0, 5000});
  elect(p);
  p.set_time(4000);
  CHECK(sent<accept>(p.submit({cmd(5, 1)}).send).at(0).val.time_ms == 4000);
}

TEST_CASE("proposer: the transition check catches a slot proposed twice "
          "differently in one ballot") {
  proposer_core p{opts(1)};
  elect(p);
  p.submit({cmd(1, 1)});
  auto before = p.snap();
  CHECK_NOTHROW(p.check_transition(before));
  before.proposals[1] = batch_of({cmd(2, 2, "other")});
  CHECK_THROWS_AS(p.check_transition(before), std::logic_error);
}

// Bug 2c of issue 10 (failed on 121f74a: next_slot reached 7 with window 2
// while slot 1 was undecided; learners then dropped what they could not
// buffer, and nobody could serve it again).
TEST_CASE("proposer: decisions never run more than window slots past the "
          "chosen prefix") {
  proposer_core p{opts(1, false, /*window*/ 2)};
  elect(p);
  auto b = p.current_ballot();
  for (uint64_t s = 1; s <= 6; ++s)
    p.submit({cmd(9, s)});
  // Slot 1 is never accepted; every later slot is, at once.
  for (uint64_t s = 2; s <= 6; ++s) {
    p.handle(accepted{b, s, 1});
    p.handle(accepted{b, s, 2});
  }
  CHECK(p.next_slot() == 3);
  CHECK(p.pending() == 4);
  // Slot 1 chosen, and the local learner holds 1 and 2: the window moves on.
  p.handle(accepted{b, 1, 1});
  p.handle(accepted{b, 1, 2});
  CHECK(p.chosen_upto() == 2);
  auto out = p.handle(learned_for_proposer{2});
  CHECK(sent<accept>(out.send).size() == 2); // slots 3 and 4
}

TEST_CASE("proposer: a new leader re-proposes adopted slots a window at a "
          "time") {
  proposer_core p{opts(1, false, /*window*/ 2)};
  auto prep = sent<prepare>(p.campaign().send);
  auto b = prep[0].bal;
  auto v = batch_of({cmd(5, 1)});
  std::vector<accepted_slot> reported;
  for (uint64_t s = 1; s <= 5; ++s)
    reported.push_back({s, {0, 2}, v});
  p.handle(promise{b, 2, 1, reported, 0, {}});
  auto lead = p.handle(promise{b, 3, 1, {}, 0, {}});
  REQUIRE(p.role() == proposer_role::leader);
  auto acc = sent<accept>(lead.send);
  REQUIRE(acc.size() == 2);
  CHECK(acc[0].slot == 1);
  CHECK(acc[1].slot == 2);
  p.handle(accepted{b, 1, 1});
  p.handle(accepted{b, 1, 2});
  auto more = sent<accept>(p.handle(learned_for_proposer{1}).send);
  REQUIRE(more.size() == 1);
  CHECK(more[0].slot == 3);
  CHECK(more[0].val == v);
}

// Bug 2a of issue 10 (failed on 121f74a: a restarted proposer's first ballot
// was (1, id) again).
TEST_CASE("proposer: every new ballot round is made durable before its "
          "prepare, and a restart starts above it") {
  proposer_core p{opts(1)};
  auto out = p.campaign();
  REQUIRE(out.writes.round.has_value());
  auto prep = sent<prepare>(out.send);
  REQUIRE(prep.size() == 1);
  CHECK(*out.writes.round == prep[0].bal.round);
  auto o = opts(1);
  proposer_state stored{*out.writes.round, 0};
  proposer_core restarted{o, stored};
  auto again = sent<prepare>(restarted.campaign().send);
  REQUIRE(again.size() == 1);
  CHECK(again[0].bal.round == stored.round + 1);
  // TEST ONLY: with the rule broken the ballot is reused, as it was.
  o.break_ballot_rule = true;
  proposer_core broken{o, stored};
  auto reused = broken.campaign();
  CHECK_FALSE(reused.writes.round.has_value());
  CHECK(sent<prepare>(reused.send)[0].bal == prep[0].bal);
}

TEST_CASE("proposer: without its acceptor joined it never campaigns, and "
          "then it campaigns above the ballot the acceptor rejoined at") {
  auto o = opts(1);
  o.joined = false;
  proposer_core p{o};
  CHECK(sent<prepare>(p.campaign().send).empty());
  for (int i = 0; i < 1000; ++i)
    CHECK(sent<prepare>(p.tick().send).empty());
  CHECK(sent<prepare>(p.submit({cmd(1, 1)}).send).empty());
  CHECK(p.role() == proposer_role::follower);
  p.handle(joined{ballot{41, 1}, 0});
  auto prep = sent<prepare>(p.campaign().send);
  REQUIRE(prep.size() == 1);
  CHECK(prep[0].bal == ballot{42, 1});
}

TEST_CASE("proposer: a promise from storage that has since been replaced "
          "does not count toward phase 1") {
  proposer_core p{opts(1, false)};
  auto b = sent<prepare>(p.campaign().send)[0].bal;
  // Acceptor 2's promise comes from its old storage (epoch 0) ...
  p.handle(promise{b, 2, 1, {}, 0, {}});
  // ... and acceptor 3 knows that 2 has rejoined at epoch 1: 2's promise is
  // void, and 1 + 3 are needed.
  p.handle(promise{b, 3, 1, {}, 0, {{2, 1}}});
  CHECK(p.role() == proposer_role::candidate);
  // A promise of 2's new storage counts again.
  p.handle(promise{b, 2, 1, {}, 1, {}});
  CHECK(p.role() == proposer_role::leader);
}

TEST_CASE("proposer: a promise of an acceptor that reports itself at a newer "
          "epoch replaces its older one") {
  proposer_core p{opts(1, false)};
  auto b = sent<prepare>(p.campaign().send)[0].bal;
  p.handle(promise{b, 3, 1, {}, 0, {{2, 1}}});
  p.handle(promise{b, 2, 1, {}, 0, {}});
  CHECK(p.role() == proposer_role::candidate);
  p.handle(promise{b, 1, 1, {}, 0, {}});
  CHECK(p.role() == proposer_role::leader); // 1 and 3
}

TEST_CASE("proposer: no client queues more than its share, so a flooding "
          "client leaves room for the others") {
  auto o = opts(1, false, /*window*/ 1, /*batch*/ 100);
  o.client_max = 3;
  proposer_core p{o};
  elect(p);
  p.submit({cmd(1, 1)}); // in flight: the window is full
  // Client 1 floods; client 2 sends two.
  auto out = p.submit({cmd(1, 2), cmd(1, 3), cmd(1, 4), cmd(1, 5), cmd(1, 6)});
  CHECK(p.pending() == 3);
  REQUIRE(out.notes.size() == 1);
  CHECK(out.notes[0].what == std::string{"client_queue_full"});
  p.submit({cmd(2, 1), cmd(2, 2)});
  CHECK(p.pending() == 5);
  CHECK(p.dropped() == 2);
  // A resend of a queued one is not a second copy, nor over the share.
  p.submit({cmd(1, 2)});
  CHECK(p.pending() == 5);
  CHECK(p.dropped() == 2);
  p.check_invariants();
  // Once the queue drains into a batch, client 1 has room again.
  auto b = p.current_ballot();
  p.handle(accepted{b, 1, 1});
  p.handle(accepted{b, 1, 2});
  auto freed = p.handle(learned_for_proposer{1});
  REQUIRE(sent<accept>(freed.send).size() == 1);
  CHECK(p.pending() == 0);
  p.submit({cmd(1, 5), cmd(1, 6)});
  CHECK(p.pending() == 2);
  p.check_invariants();
}
