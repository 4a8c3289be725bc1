#include <catch2/catch.hpp>

#include "actors/acceptor/acceptor_core.hpp"
#include "tests/core/helpers.hpp"

using namespace cafchat;
using namespace cafchat::test;

namespace {

value val(const char* text) {
  return value::of({command{1, 1, "a", text}});
}

/// The state of an acceptor that votes (a founder, long since).
acceptor_state with(ballot promised,
                    std::vector<accepted_slot> accepted = {}) {
  acceptor_state st;
  st.promised = promised;
  st.meta.voting = true;
  for (auto& a : accepted)
    st.accepted[a.slot] = a;
  return st;
}

acceptor_options opts(server_id id, std::vector<server_id> servers = {1, 2, 3}) {
  acceptor_options o;
  o.id = id;
  o.servers = std::move(servers);
  if (std::find(o.servers.begin(), o.servers.end(), id) == o.servers.end())
    o.servers.push_back(id);
  o.probe_ticks = 2;
  return o;
}

acceptor_core make(server_id id, acceptor_state st = with({}),
                   acceptor_log* log = nullptr) {
  return acceptor_core{opts(id), std::move(st), log};
}

/// The one message of type T the output sends (empty if none).
template <class T>
std::optional<T> reply(const acceptor_output& out) {
  for (auto& o : out.send)
    if (auto p = std::get_if<T>(&o.msg))
      return *p;
  return std::nullopt;
}

/// An in-memory stand-in for the storage behind a trimmed memory window.
struct fake_log : acceptor_log {
  std::map<uint64_t, accepted_slot> accepted;
  std::map<uint64_t, value> chosen;
  std::vector<accepted_slot> accepted_range(uint64_t first,
                                            size_t max) override {
    std::vector<accepted_slot> xs;
    for (auto i = accepted.lower_bound(first);
         i != accepted.end() && xs.size() < max; ++i)
      xs.push_back(i->second);
    return xs;
  }
  std::vector<decide> chosen_range(uint64_t first, size_t max) override {
    std::vector<decide> xs;
    for (auto i = chosen.lower_bound(first); i != chosen.end() && xs.size() < max;
         ++i)
      xs.push_back(decide{i->first, i->second});
    return xs;
  }
};

} // namespace

// Paxos Made Simple, 2.2: "(a) If an acceptor receives a prepare request with
// number n greater than that of any prepare request to which it has already
// responded, then it responds with a promise not to accept any more
// proposals numbered less than n and with the highest-numbered proposal (if
// any) that it has accepted."
TEST_CASE("acceptor: phase 1 follows Paxos Made Simple 2.2(a)") {
  struct row {
    const char* name;
    ballot promised_before;
    ballot prepare_at;
    bool promises;
    ballot promised_after;
    bool writes_promise;
  };
  const row rows[] = {
    {"fresh acceptor promises", {0, 0}, {1, 1}, true, {1, 1}, true},
    {"higher ballot promises", {2, 1}, {3, 2}, true, {3, 2}, true},
    {"same round, higher node promises", {2, 1}, {2, 2}, true, {2, 2}, true},
    {"retransmitted prepare is answered again", {2, 1}, {2, 1}, true, {2, 1}, false},
    {"lower round is rejected", {3, 1}, {2, 3}, false, {3, 1}, false},
    {"same round, lower node is rejected", {2, 2}, {2, 1}, false, {2, 2}, false},
  };
  for (auto& r : rows) {
    INFO(r.name);
    auto a = make(7, with(r.promised_before));
    auto out = a.handle(prepare{r.prepare_at, 1});
    CHECK(a.promised() == r.promised_after);
    CHECK(out.writes.promised.has_value() == r.writes_promise);
    if (r.promises) {
      auto p = reply<promise>(out);
      REQUIRE(p != std::nullopt);
      CHECK(p->bal == r.prepare_at);
      CHECK(p->from == 7);
      CHECK(out.send.size() == 1);
      CHECK(out.send[0].to == r.prepare_at.node);
    } else {
      auto n = reply<nack>(out);
      REQUIRE(n != std::nullopt);
      // A rejection carries the higher ballot that beat the request.
      CHECK(n->rejected == r.prepare_at);
      CHECK(n->promised == r.promised_before);
      CHECK(n->from == 7);
    }
  }
}

TEST_CASE("acceptor: a promise reports every accepted slot from first_slot on") {
  auto a = make(1, with({4, 2}, {{3, {1, 1}, val("old3")},
                                 {5, {4, 2}, val("five")},
                                 {9, {2, 3}, val("nine")}}));
  auto out = a.handle(prepare{{5, 3}, 4});
  auto p = reply<promise>(out);
  REQUIRE(p != std::nullopt);
  REQUIRE(p->accepted.size() == 2);
  CHECK(p->accepted[0].slot == 5);
  CHECK(p->accepted[0].bal == ballot{4, 2});
  CHECK(p->accepted[0].val == val("five"));
  CHECK(p->accepted[1].slot == 9);
  CHECK(p->first_slot == 4);
}

// Paxos Made Simple, 2.2: "(b) If an acceptor receives an accept request for
// a proposal numbered n, it accepts the proposal unless it has already
// responded to a prepare request having a number greater than n."
TEST_CASE("acceptor: phase 2 follows Paxos Made Simple 2.2(b)") {
  struct row {
    const char* name;
    ballot promised_before;
    ballot accept_at;
    bool accepts;
    ballot promised_after;
  };
  const row rows[] = {
    {"accept at the promised ballot", {2, 1}, {2, 1}, true, {2, 1}},
    {"accept above the promise raises it", {2, 1}, {5, 3}, true, {5, 3}},
    {"fresh acceptor accepts", {0, 0}, {1, 2}, true, {1, 2}},
    {"accept below the promise is rejected", {5, 3}, {5, 2}, false, {5, 3}},
    {"older round is rejected", {5, 3}, {4, 3}, false, {5, 3}},
  };
  for (auto& r : rows) {
    INFO(r.name);
    auto a = make(2, with(r.promised_before));
    auto out = a.handle(accept{r.accept_at, 10, val("x")});
    CHECK(a.promised() == r.promised_after);
    if (r.accepts) {
      auto ok = reply<accepted>(out);
      REQUIRE(ok != std::nullopt);
      CHECK(ok->bal == r.accept_at);
      CHECK(ok->slot == 10);
      REQUIRE(out.writes.accepted.size() == 1);
      CHECK(out.writes.accepted[0].val == val("x"));
      REQUIRE(a.find(10) != nullptr);
      CHECK(a.find(10)->bal == r.accept_at);
    } else {
      auto n = reply<nack>(out);
      REQUIRE(n != std::nullopt);
      CHECK(n->promised == r.promised_before);
      CHECK(n->slot == 10);
      CHECK(out.writes.empty());
      CHECK(a.find(10) == nullptr);
    }
  }
}

TEST_CASE("acceptor: a higher ballot replaces the accepted value of a slot") {
  auto a = make(1);
  a.handle(accept{{1, 1}, 3, val("first")});
  auto before = a.snap();
  auto out = a.handle(accept{{2, 2}, 3, val("second")});
  CHECK(reply<accepted>(out) != std::nullopt);
  CHECK(a.find(3)->val == val("second"));
  CHECK_NOTHROW(a.check_transition(before));
}

TEST_CASE("acceptor: a retransmitted accept needs no second write") {
  auto a = make(1);
  auto first = a.handle(accept{{1, 1}, 3, val("v")});
  auto again = a.handle(accept{{1, 1}, 3, val("v")});
  CHECK(first.writes.accepted.size() == 1);
  CHECK(again.writes.empty());
  CHECK(reply<accepted>(again) != std::nullopt);
}

TEST_CASE("acceptor: the invariant checks catch a broken rule") {
  auto a = make(1, with({3, 1}, {{2, {3, 1}, val("v")}}));
  auto before = a.snap();
  // A healthy transition passes.
  a.handle(prepare{{4, 2}, 1});
  CHECK_NOTHROW(a.check_transition(before));
  // A state whose promise went down, or whose slot lost its ballot, fails.
  auto lower = make(1, with({2, 1}, {{2, {1, 1}, val("v")}}));
  CHECK_THROWS_AS(lower.check_transition(before), std::logic_error);
  // An accepted slot above the promise is rejected at construction.
  CHECK_THROWS_AS(make(1, with({1, 1}, {{2, {3, 1}, val("v")}})),
                  std::logic_error);
}

TEST_CASE("acceptor: learned slots leave memory, and a promise reaching below "
          "the window reads them from storage") {
  fake_log disk;
  auto a = make(1, with({}), &disk);
  for (uint64_t s = 1; s <= 5; ++s) {
    auto out = a.handle(accept{{1, 2}, s, val("v")});
    for (auto& w : out.writes.accepted)
      disk.accepted[w.slot] = w;
  }
  a.handle(learned_for_acceptor{3});
  CHECK(a.trimmed_upto() == 3);
  CHECK(a.find(3) == nullptr);
  REQUIRE(a.find(4) != nullptr);
  auto p = reply<promise>(a.handle(prepare{{2, 3}, 2}));
  REQUIRE(p != std::nullopt);
  REQUIRE(p->accepted.size() == 4); // 2-3 from storage, 4-5 from memory
  for (size_t i = 0; i < 4; ++i)
    CHECK(p->accepted[i].slot == i + 2);
  auto above = reply<promise>(a.handle(prepare{{3, 3}, 4}));
  REQUIRE(above != std::nullopt);
  CHECK(above->accepted.size() == 2);
}

// Bug 2a of issue 10 (failed on 121f74a: the second value was answered with
// `accepted`, and its vote delivered the first value at one server and the
// second at the others).
TEST_CASE("acceptor: an accept of a second value at an accepted slot and "
          "ballot is refused and reported, never answered") {
  auto a = make(2);
  REQUIRE(reply<accepted>(a.handle(accept{{1, 1}, 1, val("A")})) != std::nullopt);
  auto out = a.handle(accept{{1, 1}, 1, val("B")});
  CHECK(out.send.empty());
  CHECK(out.writes.empty());
  REQUIRE(out.notes.size() == 1);
  CHECK(std::string{out.notes[0].what} == "protocol_violation");
  CHECK(a.find(1)->val == val("A"));
  // The same value again is a retransmission and is answered.
  CHECK(reply<accepted>(a.handle(accept{{1, 1}, 1, val("A")})) != std::nullopt);
}

TEST_CASE("acceptor: the learn vote goes to its own learner, to every learner "
          "with learn = votes, and to nobody for its own leader's accept") {
  struct row {
    const char* name;
    bool learn_votes;
    ballot bal;
    server_id vote_to; ///< all_servers, 2, or 99 for none
  };
  const row rows[] = {
    {"another server's ballot: own learner", false, {1, 1}, 2},
    {"own proposer's ballot: its decide brings the value", false, {1, 2}, 99},
    {"learn = votes: every learner", true, {1, 1}, all_servers},
    {"learn = votes, own ballot: every learner", true, {1, 2}, all_servers},
  };
  for (auto& r : rows) {
    INFO(r.name);
    auto o = opts(2);
    o.learn_votes = r.learn_votes;
    acceptor_core a{o, with({})};
    auto out = a.handle(accept{r.bal, 1, val("v")});
    auto votes = sent_envelopes<learn>(out.send);
    if (r.vote_to == 99) {
      CHECK(votes.empty());
    } else {
      REQUIRE(votes.size() == 1);
      CHECK(votes[0].to == r.vote_to);
      // Before the accepted reply: the local learner holds the vote first.
      CHECK(std::holds_alternative<learn>(out.send.front().msg));
    }
    CHECK(std::holds_alternative<accepted>(out.send.back().msg));
  }
}

// -- lost storage ---------------------------------------------------------------

TEST_CASE("acceptor: a founding member with new storage votes at once and "
          "records it") {
  auto o = opts(1);
  o.founder = true;
  acceptor_core a{o, acceptor_state{}};
  CHECK(a.mode() == acceptor_mode::voting);
  auto out = a.start();
  REQUIRE(out.writes.meta.has_value());
  CHECK(out.writes.meta->voting);
  CHECK(out.writes.meta->epoch == 0);
}

TEST_CASE("acceptor: new storage that is not a founder's never votes on "
          "silence") {
  acceptor_core a{opts(1), acceptor_state{}};
  REQUIRE(a.mode() == acceptor_mode::rejoining);
  auto out = a.start();
  CHECK(sent<state_query>(out.send).size() == 2);
  // Silence, however long: no vote (bug 2b of issue 10 voted after ~1 s).
  for (int i = 0; i < 10000; ++i)
    a.tick();
  CHECK(a.mode() == acceptor_mode::rejoining);
  CHECK(reply<promise>(a.handle(prepare{{5, 2}, 1})) == std::nullopt);
  CHECK(reply<accepted>(a.handle(accept{{5, 2}, 1, val("x")})) == std::nullopt);
  CHECK_FALSE(a.waiting_for().empty());
}

namespace {

/// Drives one rejoin: `peers` answer the probe and the prepare.
struct rejoin_run {
  acceptor_core joiner;
  std::map<server_id, acceptor_core> peers;
  std::vector<acceptor_output> outputs; ///< The joiner's, in order.

  explicit rejoin_run(std::vector<server_id> servers, server_id id = 1)
    : joiner(opts(id, servers), acceptor_state{}) {
  }

  /// Delivers every message of `out` addressed to a voting peer in `to`,
  /// and their answers back to the joiner; returns the joiner's outputs.
  std::vector<acceptor_output> exchange(const acceptor_output& out,
                                        const std::vector<server_id>& to) {
    std::vector<acceptor_output> results;
    for (auto& o : out.send) {
      if (std::find(to.begin(), to.end(), o.to) == to.end())
        continue;
      auto& peer = peers.at(o.to);
      acceptor_output answer;
      if (auto q = std::get_if<state_query>(&o.msg))
        answer = peer.handle(*q);
      else if (auto r = std::get_if<rejoin_prepare>(&o.msg))
        answer = peer.handle(*r);
      for (auto& back : answer.send) {
        if (auto sr = std::get_if<state_reply>(&back.msg))
          results.push_back(joiner.handle(*sr));
        else if (auto rr = std::get_if<rejoin_reply>(&back.msg))
          results.push_back(joiner.handle(*rr));
      }
    }
    return results;
  }

  /// Runs probe and prepare rounds until the joiner votes or `rounds` pass.
  void run(const std::vector<server_id>& reachable, int rounds = 10) {
    std::vector<acceptor_output> pending{joiner.start()};
    for (int i = 0; i < rounds && joiner.mode() != acceptor_mode::voting; ++i) {
      std::vector<acceptor_output> next;
      for (auto& out : pending)
        for (auto& r : exchange(out, reachable))
          next.push_back(std::move(r));
      if (next.empty())
        next.push_back(joiner.tick()), next.push_back(joiner.tick());
      outputs.insert(outputs.end(), pending.begin(), pending.end());
      pending = std::move(next);
    }
    outputs.insert(outputs.end(), pending.begin(), pending.end());
  }
};

} // namespace

TEST_CASE("acceptor: a rejoining acceptor needs a majority of the cluster "
          "other than itself to promise") {
  rejoin_run r{{1, 2, 3, 4, 5}};
  for (server_id id = 2; id <= 5; ++id)
    r.peers.emplace(id, make(id, with({3, 4}, {{1, {3, 4}, val("v")}})));
  // Two of four peers: not a majority of five without itself.
  r.run({2, 3});
  CHECK(r.joiner.mode() == acceptor_mode::rejoining);
  // A third: it rejoins, above every promise it heard of, with a new epoch.
  r.run({2, 3, 4});
  REQUIRE(r.joiner.mode() == acceptor_mode::voting);
  CHECK(r.joiner.promised() > ballot{3, 4});
  CHECK(r.joiner.promised().node == 0); // no proposer's ballot
  CHECK(r.joiner.meta().epoch == 1);
  CHECK(r.joiner.meta().voting);
  // It adopted what they accepted, so it reports it like they would.
  REQUIRE(r.joiner.find(1) != nullptr);
  CHECK(r.joiner.find(1)->val == val("v"));
  // Those that promised know its new epoch; their promises say so.
  auto p = reply<promise>(r.peers.at(2).handle(prepare{{9, 9}, 1}));
  REQUIRE(p != std::nullopt);
  REQUIRE(p->epochs.size() == 1);
  CHECK(p->epochs[0] == std::make_pair(server_id{1}, uint64_t{1}));
  CHECK(r.peers.at(5).meta().epochs.empty());
}

TEST_CASE("acceptor: its own proposer hears that it votes once it has "
          "rejoined, with the rejoin's writes, and never before") {
  rejoin_run r{{1, 2, 3}};
  for (server_id id = 2; id <= 3; ++id)
    r.peers.emplace(id, make(id, with({3, 4})));
  r.run({2});
  REQUIRE(r.joiner.mode() == acceptor_mode::rejoining);
  for (auto& out : r.outputs)
    CHECK(sent<joined>(out.send).empty());
  // Told that its own server (re)started roles while it rejoins: nothing.
  CHECK(r.joiner.announced(1).send.empty());
  r.run({2, 3});
  REQUIRE(r.joiner.mode() == acceptor_mode::voting);
  std::vector<const acceptor_output*> with_joined;
  for (auto& out : r.outputs)
    if (!sent<joined>(out.send).empty())
      with_joined.push_back(&out);
  REQUIRE(with_joined.size() == 1);
  auto& out = *with_joined[0];
  auto j = sent_envelopes<joined>(out.send);
  REQUIRE(j.size() == 1);
  CHECK(j[0].to == 1); // its own server: the proposer
  CHECK(std::get<joined>(j[0].msg).promised == r.joiner.promised());
  CHECK(std::get<joined>(j[0].msg).epoch == r.joiner.meta().epoch);
  // Persisted before the actor sends it: the same output writes the meta
  // that says it votes, and the promise it rejoined at.
  REQUIRE(out.writes.meta.has_value());
  CHECK(out.writes.meta->voting);
  CHECK(out.writes.promised == r.joiner.promised());
}

TEST_CASE("acceptor: a voting acceptor tells its own server's proposer, new "
          "or restarted, that it votes, and nobody else's") {
  auto a = make(2, with({4, 1}));
  auto own = a.announced(2);
  auto j = sent_envelopes<joined>(own.send);
  REQUIRE(j.size() == 1);
  CHECK(j[0].to == 2);
  CHECK(std::get<joined>(j[0].msg).promised == ballot{4, 1});
  CHECK(own.send.size() == 1);
  CHECK(own.writes.empty());
  CHECK(a.announced(3).send.empty());
}

TEST_CASE("acceptor: a rejoining acceptor probes every other acceptor, again "
          "at a period that doubles up to 16 times probe_ticks") {
  acceptor_core a{opts(1, {1, 2, 3}), acceptor_state{}};
  CHECK(a.wants_ticks());
  auto first = sent_envelopes<state_query>(a.start().send);
  REQUIRE(first.size() == 2);
  CHECK(first[0].to == 2);
  CHECK(first[1].to == 3);
  std::vector<int> rounds;
  for (int t = 1; t <= 200; ++t) {
    auto qs = sent_envelopes<state_query>(a.tick().send);
    if (qs.empty())
      continue;
    CHECK(qs.size() == 2);
    rounds.push_back(t);
  }
  // probe_ticks = 2: waits of 2, 4, 8, 16, 32, then 32 on.
  CHECK(rounds == std::vector<int>{2, 6, 14, 30, 62, 94, 126, 158, 190});
  // A voting acceptor only answers: no ticks.
  CHECK_FALSE(make(1).wants_ticks());
}

TEST_CASE("acceptor: a refused rejoin that needs its learner further sends "
          "the learner to the peer that said so") {
  rejoin_run r{{1, 2, 3}};
  auto start = r.joiner.start();
  acceptor_output go;
  for (auto& o : start.send) {
    auto inc = r.joiner.options().incarnation;
    go = r.joiner.handle(state_reply{o.to, inc, {3, 4}, true, 0, 0, 0});
  }
  auto prep = sent<rejoin_prepare>(go.send);
  REQUIRE(prep.size() == 2);
  rejoin_reply no;
  no.from = 3;
  no.bal = prep[0].bal;
  no.epoch = prep[0].epoch;
  no.learn_upto = 12;
  auto out = r.joiner.handle(no);
  auto hints = sent_envelopes<chosen_hint>(out.send);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].to == 1);
  CHECK(std::get<chosen_hint>(hints[0].msg).chosen_upto == 12);
  CHECK(std::get<chosen_hint>(hints[0].msg).peer == 3);
  // And it probes again.
  CHECK(sent<state_query>(out.send).size() == 2);
}

TEST_CASE("acceptor: a rejoin is refused below a peer's promise or epoch, "
          "and the next attempt goes above both") {
  auto peer = make(2, with({7, 3}));
  acceptor_meta m;
  m.voting = true;
  m.epochs[1] = 4;
  auto st = with({7, 3});
  st.meta = m;
  auto peer2 = make(2, st);
  auto low_bal = peer.handle(rejoin_prepare{1, 5, {2, 1}, 1});
  auto r1 = reply<rejoin_reply>(low_bal);
  REQUIRE(r1 != std::nullopt);
  CHECK_FALSE(r1->ok);
  CHECK(r1->promised == ballot{7, 3});
  CHECK(low_bal.writes.empty());
  auto low_epoch = peer2.handle(rejoin_prepare{1, 3, {8, 1}, 1});
  auto r2 = reply<rejoin_reply>(low_epoch);
  REQUIRE(r2 != std::nullopt);
  CHECK_FALSE(r2->ok);
  CHECK(r2->known_epoch == 4);
  // The joiner learns both, and asks again above them.
  rejoin_run r{{1, 2, 3}};
  r.peers.emplace(2, peer2);
  r.peers.emplace(3, make(3, with({1, 3})));
  r.run({2, 3});
  REQUIRE(r.joiner.mode() == acceptor_mode::voting);
  CHECK(r.joiner.meta().epoch == 5);
  CHECK(r.joiner.promised() > ballot{7, 3});
}

TEST_CASE("acceptor: a rejoining acceptor's learner catches up first, and "
          "slots below its rejoin come from the decided log as chosen") {
  fake_log disk;
  auto o = opts(1);
  o.rejoin_lag_max = 2;
  acceptor_core joiner{o, acceptor_state{}, &disk};
  auto out = joiner.start();
  auto peer2 = make(2, with({3, 2}, {{9, {3, 2}, val("nine")}}));
  auto peer3 = make(3, with({3, 2}));
  peer2.handle(learned_for_acceptor{8});
  peer3.handle(learned_for_acceptor{8});
  auto a2 = peer2.handle(std::get<state_query>(out.send[0].msg));
  auto a3 = peer3.handle(std::get<state_query>(out.send[1].msg));
  joiner.handle(std::get<state_reply>(a2.send[0].msg));
  auto wait = joiner.handle(std::get<state_reply>(a3.send[0].msg));
  // The peers delivered up to 8: our learner catches up to within 2 of it
  // first, from a peer that has it.
  auto hints = sent_envelopes<chosen_hint>(wait.send);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].to == 1);
  CHECK(std::get<chosen_hint>(hints[0].msg).chosen_upto == 8);
  CHECK(std::get<chosen_hint>(hints[0].msg).peer == 2);
  CHECK(sent<rejoin_prepare>(wait.send).empty());
  for (uint64_t s = 1; s <= 6; ++s)
    disk.chosen[s] = val("old");
  auto go = joiner.handle(learned_for_acceptor{6});
  auto prep = sent<rejoin_prepare>(go.send);
  REQUIRE(prep.size() == 2);
  CHECK(prep[0].first_slot == 7);
  for (auto& x : {peer2.handle(prep[0]), peer3.handle(prep[1])})
    joiner.handle(std::get<rejoin_reply>(x.send[0].msg));
  REQUIRE(joiner.mode() == acceptor_mode::voting);
  CHECK(joiner.meta().recovered_floor == 6);
  // A promise for old slots reports what its learner knows was chosen.
  auto p = reply<promise>(joiner.handle(prepare{{9, 3}, 5}));
  REQUIRE(p != std::nullopt);
  REQUIRE(p->accepted.size() == 3); // 5 and 6 as chosen; 9 adopted
  CHECK(p->accepted[0].bal == chosen_ballot());
  CHECK(p->accepted[0].val == val("old"));
  CHECK(p->accepted[2].slot == 9);
  CHECK(p->accepted[2].bal == ballot{3, 2});
  // A later joiner asking below its floor is told to learn up to it first.
  auto below = reply<rejoin_reply>(joiner.handle(rejoin_prepare{2, 1, {20, 2}, 3}));
  REQUIRE(below != std::nullopt);
  CHECK_FALSE(below->ok);
  CHECK(below->learn_upto == 6);
}

TEST_CASE("acceptor: the invariant checks catch a forgotten epoch") {
  acceptor_meta m;
  m.voting = true;
  m.epochs[3] = 2;
  auto st = with({1, 1});
  st.meta = m;
  auto forgetful = make(1, with({1, 1}));
  CHECK_THROWS_AS(forgetful.check_transition(st), std::logic_error);
}
