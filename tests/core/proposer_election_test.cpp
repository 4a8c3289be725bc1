#include <catch2/catch.hpp>

#include "actors/proposer/proposer_core.hpp"
#include "tests/core/helpers.hpp"
#include "tests/core/proposer_helpers.hpp"

// The proposer core's leader election: backoff after a failed phase 1,
// resends, heartbeats and what they tell followers, CheckQuorum, stepping
// down, PreVote, and timeouts that follow the network.

using namespace cafchat;
using namespace cafchat::test;

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
