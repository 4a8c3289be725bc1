#include <catch2/catch.hpp>

#include "actors/acceptor/acceptor_core.hpp"

using namespace cafchat;

namespace {

value val(const char* text) {
  return value::of({command{1, 1, "a", text}});
}

acceptor_state with(ballot promised,
                    std::vector<accepted_slot> accepted = {}) {
  acceptor_state st;
  st.promised = promised;
  for (auto& a : accepted)
    st.accepted[a.slot] = a;
  return st;
}

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
    acceptor_core a{7, with(r.promised_before)};
    auto out = a.handle(prepare{r.prepare_at, 1});
    CHECK(a.promised() == r.promised_after);
    CHECK(out.writes.promised.has_value() == r.writes_promise);
    if (r.promises) {
      auto p = std::get_if<promise>(&out.reply);
      REQUIRE(p != nullptr);
      CHECK(p->bal == r.prepare_at);
      CHECK(p->from == 7);
    } else {
      auto n = std::get_if<nack>(&out.reply);
      REQUIRE(n != nullptr);
      // A rejection carries the higher ballot that beat the request.
      CHECK(n->rejected == r.prepare_at);
      CHECK(n->promised == r.promised_before);
      CHECK(n->from == 7);
    }
  }
}

TEST_CASE("acceptor: a promise reports every accepted slot from first_slot on") {
  acceptor_core a{1, with({4, 2}, {{3, {1, 1}, val("old3")},
                                   {5, {4, 2}, val("five")},
                                   {9, {2, 3}, val("nine")}})};
  auto out = a.handle(prepare{{5, 3}, 4});
  auto p = std::get_if<promise>(&out.reply);
  REQUIRE(p != nullptr);
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
    acceptor_core a{2, with(r.promised_before)};
    auto out = a.handle(accept{r.accept_at, 10, val("x")});
    CHECK(a.promised() == r.promised_after);
    if (r.accepts) {
      auto ok = std::get_if<accepted>(&out.reply);
      REQUIRE(ok != nullptr);
      CHECK(ok->bal == r.accept_at);
      CHECK(ok->slot == 10);
      REQUIRE(out.writes.accepted.size() == 1);
      CHECK(out.writes.accepted[0].val == val("x"));
      REQUIRE(a.find(10) != nullptr);
      CHECK(a.find(10)->bal == r.accept_at);
    } else {
      auto n = std::get_if<nack>(&out.reply);
      REQUIRE(n != nullptr);
      CHECK(n->promised == r.promised_before);
      CHECK(n->slot == 10);
      CHECK(out.writes.empty());
      CHECK(a.find(10) == nullptr);
    }
  }
}

TEST_CASE("acceptor: a higher ballot replaces the accepted value of a slot") {
  acceptor_core a{1, {}};
  a.handle(accept{{1, 1}, 3, val("first")});
  auto before = a.state();
  auto out = a.handle(accept{{2, 2}, 3, val("second")});
  CHECK(std::holds_alternative<accepted>(out.reply));
  CHECK(a.find(3)->val == val("second"));
  CHECK_NOTHROW(a.check_transition(before));
}

TEST_CASE("acceptor: a retransmitted accept needs no second write") {
  acceptor_core a{1, {}};
  auto first = a.handle(accept{{1, 1}, 3, val("v")});
  auto again = a.handle(accept{{1, 1}, 3, val("v")});
  CHECK(first.writes.accepted.size() == 1);
  CHECK(again.writes.empty());
  CHECK(std::holds_alternative<accepted>(again.reply));
}

TEST_CASE("acceptor: the invariant checks catch a broken rule") {
  acceptor_core a{1, with({3, 1}, {{2, {3, 1}, val("v")}})};
  auto before = a.state();
  // A healthy transition passes.
  a.handle(prepare{{4, 2}, 1});
  CHECK_NOTHROW(a.check_transition(before));
  // A state whose promise went down, or whose slot lost its ballot, fails.
  acceptor_core lower{1, with({2, 1}, {{2, {1, 1}, val("v")}})};
  CHECK_THROWS_AS(lower.check_transition(before), std::logic_error);
  // An accepted slot above the promise is rejected at construction.
  CHECK_THROWS_AS((acceptor_core{1, with({1, 1}, {{2, {3, 1}, val("v")}})}),
                  std::logic_error);
}

TEST_CASE("acceptor: learned slots leave memory, and a promise reaching below "
          "the window asks for them from storage") {
  acceptor_core a{1, {}};
  for (uint64_t s = 1; s <= 5; ++s)
    a.handle(accept{{1, 2}, s, val("v")});
  a.learned(3);
  CHECK(a.trimmed_upto() == 3);
  CHECK(a.find(3) == nullptr);
  REQUIRE(a.find(4) != nullptr);
  auto out = a.handle(prepare{{2, 3}, 2});
  auto p = std::get_if<promise>(&out.reply);
  REQUIRE(p != nullptr);
  CHECK(p->accepted.size() == 2); // slots 4 and 5 from memory ...
  CHECK(out.from_storage == std::make_pair(uint64_t{2}, uint64_t{3})); // 2-3 from disk
  auto above = a.handle(prepare{{3, 3}, 4});
  CHECK(above.from_storage == std::make_pair(uint64_t{0}, uint64_t{0}));
}
