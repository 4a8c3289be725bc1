#include <catch2/catch.hpp>

#include "actors/proposer/proposer_core.hpp"
#include "tests/core/helpers.hpp"

using namespace cafchat;
using namespace cafchat::test;

namespace {

proposer_options opts(server_id id, bool prevote = false, uint32_t window = 4,
                      uint32_t batch = 1) {
  proposer_options o;
  o.id = id;
  o.servers = {1, 2, 3};
  o.heartbeat_ticks = 2;
  o.election_ticks = 10;
  o.retry_ticks = 3;
  o.window = window;
  o.batch_max = batch;
  o.prevote = prevote;
  o.seed = 42;
  return o;
}

value batch_of(std::initializer_list<command> cs) {
  return value::of(std::vector<command>(cs));
}

/// Runs phase 1 to completion with promises from `voters` (empty reports).
proposer_output elect(proposer_core& p, std::vector<server_id> voters = {1, 2}) {
  auto out = p.campaign();
  auto prep = sent<prepare>(out.send);
  REQUIRE(prep.size() == 1);
  proposer_output last;
  for (auto v : voters)
    last = p.handle(promise{prep[0].bal, v, prep[0].first_slot, {}, 0, {}});
  REQUIRE(p.role() == proposer_role::leader);
  return last;
}

} // namespace

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

TEST_CASE("proposer: after a nack it backs off, then retries with a higher "
          "ballot") {
  proposer_core p{opts(1)};
  auto b = sent<prepare>(p.campaign().send).at(0).bal;
  p.handle(nack{b, ballot{7, 3}, 0, 2});
  CHECK(p.role() == proposer_role::follower);
  CHECK(p.leader() == 0);
  CHECK(p.max_seen() == ballot{7, 3});
  ballot retry;
  for (int i = 0; i < 200 && retry.is_zero(); ++i) {
    auto out = p.tick();
    for (auto& x : sent<prepare>(out.send))
      retry = x.bal;
  }
  CHECK(retry == ballot{8, 1});
}

TEST_CASE("proposer: a phase 1 without a majority times out and retries "
          "higher") {
  proposer_core p{opts(1)};
  auto b1 = sent<prepare>(p.campaign().send).at(0).bal;
  ballot b2;
  for (int i = 0; i < 200 && b2.is_zero(); ++i)
    for (auto& x : sent<prepare>(p.tick().send))
      b2 = x.bal;
  CHECK(b2 > b1);
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

TEST_CASE("proposer: an unanswered accept is sent again after retry_ticks") {
  proposer_core p{opts(1)};
  elect(p);
  auto slot = sent<accept>(p.submit({cmd(1, 1)}).send).at(0).slot;
  size_t resent = 0;
  for (int i = 0; i < 3; ++i)
    for (auto& a : sent<accept>(p.tick().send))
      if (a.slot == slot)
        ++resent;
  CHECK(resent == 1);
}

TEST_CASE("proposer: a leader heartbeats every heartbeat_ticks") {
  proposer_core p{opts(1)};
  elect(p);
  size_t beats = 0;
  for (int i = 0; i < 6; ++i) {
    auto out = p.tick();
    beats += sent<heartbeat>(out.send).size();
    p.handle(heartbeat_reply{p.current_ballot(), 2, 0}); // keep CheckQuorum happy
  }
  CHECK(beats == 3);
  CHECK(p.role() == proposer_role::leader);
}

TEST_CASE("proposer: CheckQuorum makes a leader nobody answers step down") {
  proposer_core p{opts(1)};
  elect(p);
  for (int i = 0; i < 10; ++i)
    p.tick();
  CHECK(p.role() == proposer_role::follower);
}

TEST_CASE("proposer: a heartbeat makes a follower forward commands to the "
          "leader") {
  proposer_core p{opts(2)};
  p.handle(heartbeat{{3, 3}, 3, 4});
  CHECK(p.leader() == 3);
  // The leader's chosen prefix is a hint for the learner, not knowledge.
  CHECK(p.chosen_upto() == 0);
  auto out = p.submit({cmd(1, 1)});
  auto f = sent_envelopes<forward>(out.send);
  REQUIRE(f.size() == 1);
  CHECK(f[0].to == 3);
  CHECK(std::get<forward>(f[0].msg).commands.size() == 1);
}

TEST_CASE("proposer: every heartbeat tells its own learner how far the "
          "chosen prefix reaches and whom to ask") {
  struct row {
    const char* name;
    ballot bal;
    server_id from;
  };
  const row rows[] = {
    {"the current leader's", {5, 3}, 3},
    {"a stale leader's: what it says is chosen still is", {1, 1}, 1},
    {"our own", {5, 2}, 2},
  };
  for (auto& r : rows) {
    INFO(r.name);
    proposer_core p{opts(2)};
    p.handle(heartbeat{{5, 3}, 3, 0});
    auto out = p.handle(heartbeat{r.bal, r.from, 7});
    auto hints = sent_envelopes<chosen_hint>(out.send);
    REQUIRE(hints.size() == 1);
    CHECK(hints[0].to == 2); // our own server: its learner
    CHECK(std::get<chosen_hint>(hints[0].msg).chosen_upto == 7);
    CHECK(std::get<chosen_hint>(hints[0].msg).peer == r.from);
    // Not knowledge of the proposer's own: phase 1 starts after what its
    // learner holds.
    CHECK(p.chosen_upto() == 0);
  }
}

TEST_CASE("proposer: a stale leader learns of the higher ballot and steps "
          "down") {
  proposer_core old{opts(1)};
  elect(old);
  proposer_core follower{opts(2)};
  follower.handle(heartbeat{{5, 3}, 3, 0});
  auto reply = sent<heartbeat_reply>(
    follower.handle(heartbeat{old.current_ballot(), 1, 0}).send);
  REQUIRE(reply.size() == 1);
  CHECK(reply[0].bal == ballot{5, 3});
  old.handle(reply[0]);
  CHECK(old.role() == proposer_role::follower);
}

TEST_CASE("proposer: a leader that steps down queues its in-flight commands "
          "again") {
  proposer_core p{opts(1)};
  elect(p);
  p.submit({cmd(1, 1)});
  p.submit({cmd(1, 2)});
  p.handle(nack{p.current_ballot(), {9, 2}, 1, 2});
  CHECK(p.role() == proposer_role::follower);
  CHECK(p.pending() == 2);
  // ... and forwards them once it knows the new leader.
  auto out = p.handle(heartbeat{{9, 2}, 2, 0});
  auto f = sent<forward>(out.send);
  REQUIRE(f.size() == 1);
  CHECK(f[0].commands.size() == 2);
  CHECK(f[0].commands[0].seq == 1);
}

TEST_CASE("proposer: PreVote is refused while a leader is alive") {
  proposer_core p{opts(2, true)};
  p.handle(heartbeat{{1, 1}, 1, 0});
  auto r = sent<prevote_reply>(p.handle(prevote_request{3, 2, 0}).send);
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].granted);
  for (int i = 0; i < 10; ++i) // a full election timeout without heartbeats
    p.tick();
  r = sent<prevote_reply>(p.handle(prevote_request{3, 2, 0}).send);
  CHECK(r.at(0).granted);
}

TEST_CASE("proposer: PreVote needs a majority before any ballot is used") {
  proposer_core p{opts(1, true)};
  auto out = p.campaign();
  CHECK(p.role() == proposer_role::precandidate);
  CHECK(sent<prepare>(out.send).empty());
  CHECK(sent<prevote_request>(out.send).size() == 2);
  // Refusals leave the ballot alone: an isolated server cannot inflate it.
  p.handle(prevote_reply{2, 1, false});
  CHECK(p.max_seen().is_zero());
  auto go = p.handle(prevote_reply{3, 1, true});
  CHECK(p.role() == proposer_role::candidate);
  CHECK(sent<prepare>(go.send).size() == 1);
}

TEST_CASE("proposer: a follower with work and no leader runs for leader") {
  proposer_core p{opts(3, true)};
  auto out = p.submit({cmd(1, 1)});
  CHECK(p.role() == proposer_role::precandidate);
  CHECK(p.pending() == 1);
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

// -- timeouts that follow the network (issue 16) -------------------------------

TEST_CASE("proposer: on a fast network the timeouts are the configured floors") {
  auto o = opts(1);
  o.heartbeat_ticks = 5;
  o.election_ticks = 50;
  o.retry_ticks = 10;
  proposer_core p{o};
  CHECK(p.round_trip_timeout() == 10);
  CHECK(p.heartbeat_interval() == 5);
  CHECK(p.election_base() == 50);
  CHECK(p.check_period() == 50);
  elect(p);
  // Replies within a tick: nothing changes.
  for (int i = 0; i < 20; ++i) {
    auto out = p.tick();
    for (auto& h : sent<heartbeat>(out.send)) {
      p.handle(heartbeat_reply{h.bal, 2, 0, h.sent});
      p.handle(heartbeat_reply{h.bal, 3, 0, h.sent});
    }
  }
  CHECK(p.round_trip_timeout() == 10);
  CHECK(p.heartbeat_interval() == 5);
}

TEST_CASE("proposer: slow replies raise the round-trip timeout and the "
          "heartbeat period, and a majority's speed is what counts") {
  auto o = opts(1);
  o.heartbeat_ticks = 5;
  o.retry_ticks = 10;
  proposer_core p{o};
  elect(p);
  // Heartbeats answered after 300 ticks by server 2, never by server 3.
  std::vector<heartbeat> sent_hb;
  for (int t = 0; t < 2000; ++t) {
    auto out = p.tick();
    for (auto& h : sent<heartbeat>(out.send))
      sent_hb.push_back(h);
    while (!sent_hb.empty() && sent_hb.front().sent + 300 <= uint64_t(t) + 2) {
      auto h = sent_hb.front();
      sent_hb.erase(sent_hb.begin());
      p.handle(heartbeat_reply{h.bal, 2, 0, h.sent});
    }
  }
  CHECK(p.round_trip_timeout() >= 300);
  CHECK(p.round_trip_timeout() < 500);
  CHECK(p.heartbeat_interval() >= 150);
  CHECK(p.check_period() >= 2 * (300 + 150));
}

TEST_CASE("proposer: a candidate's phase timeout doubles per failed election, "
          "and a late answer teaches it the round trip") {
  auto o = opts(1, /*prevote*/ true);
  o.retry_ticks = 4;
  o.election_ticks = 10;
  proposer_core p{o};
  // Nobody answers: each attempt waits about twice as long as the last.
  std::vector<uint64_t> waits;
  uint64_t t = 0, started = 0;
  std::vector<prevote_request> asked;
  for (; t < 3000 && waits.size() < 5; ++t) {
    auto out = p.tick();
    auto req = sent<prevote_request>(out.send);
    if (!req.empty())
      asked.push_back(req[0]);
    if (p.role() == proposer_role::precandidate && started == 0)
      started = t;
    if (p.role() != proposer_role::precandidate && started != 0) {
      waits.push_back(t - started);
      started = 0;
    }
  }
  REQUIRE(waits.size() == 5);
  for (size_t i = 1; i < waits.size(); ++i)
    CHECK(waits[i] >= waits[i - 1]);
  CHECK(waits.back() >= 4 * waits.front());
  // An answer to the first request, arriving now, is a 1000-odd tick sample.
  REQUIRE(!asked.empty());
  p.handle(prevote_reply{2, asked.front().round, true, asked.front().sent});
  CHECK(p.round_trip_timeout() >= t - asked.front().sent);
}

TEST_CASE("proposer: a follower waits for the leader at least its announced "
          "period plus the gaps it sees, and refuses PreVote meanwhile") {
  auto o = opts(2, true);
  o.election_ticks = 10;
  proposer_core f{o};
  // Heartbeats every 100 ticks, announced as such.
  uint64_t stamp = 1;
  for (int k = 0; k < 5; ++k) {
    for (int i = 0; i < 100; ++i)
      f.tick();
    f.handle(heartbeat{{1, 1}, 1, 0, stamp, 100});
    stamp += 100;
  }
  CHECK(f.election_base() >= 100);
  // 60 ticks of silence is within a 100-tick period: not a dead leader.
  for (int i = 0; i < 60; ++i)
    CHECK(sent<prepare>(f.tick().send).empty());
  auto reply = sent<prevote_reply>(f.handle(prevote_request{3, 5, 0, 1}).send);
  REQUIRE(reply.size() == 1);
  CHECK_FALSE(reply[0].granted);
  CHECK(f.role() == proposer_role::follower);
}
