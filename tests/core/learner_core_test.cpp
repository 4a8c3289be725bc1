#include <catch2/catch.hpp>

#include <map>

#include "actors/learner/learner_core.hpp"
#include "tests/core/helpers.hpp"

using namespace cafchat;
using namespace cafchat::test;

namespace {

learner_options opts(bool check = true) {
  learner_options o;
  o.id = 1;
  o.servers = {1, 2, 3};
  o.catchup_ticks = 3;
  o.catchup_max_slots = 10;
  o.check = check;
  return o;
}

value v(const char* text) {
  return value::of({command{1, 1, "a", text}});
}

std::vector<uint64_t> slots(const learner_output& out) {
  std::vector<uint64_t> xs;
  for (auto& d : out.writes.slots)
    xs.push_back(d.slot);
  return xs;
}

} // namespace

TEST_CASE("learner: decided slots are delivered in slot order") {
  learner_core l{opts(), 0};
  CHECK(slots(l.handle(decide{2, v("b")})).empty());
  CHECK(slots(l.handle(decide{3, v("c")})).empty());
  CHECK(slots(l.handle(decide{1, v("a")})) == std::vector<uint64_t>{1, 2, 3});
  CHECK(l.delivered_upto() == 3);
  CHECK(slots(l.handle(decide{2, v("b")})).empty()); // again: nothing new
}

// Paxos Made Simple, 2.3: a learner finds out that a value has been chosen
// when a majority of acceptors have accepted it (in one proposal).
TEST_CASE("learner: a majority of acceptors in one ballot chooses a value") {
  learner_core l{opts(), 0};
  CHECK(l.handle(learn{{1, 1}, 1, 1, v("x")}).writes.slots.empty());
  // The same acceptor again, then another ballot:
  CHECK(l.handle(learn{{1, 1}, 1, 1, v("x")}).writes.slots.empty());
  CHECK(l.handle(learn{{2, 2}, 1, 2, v("y")}).writes.slots.empty());
  auto out = l.handle(learn{{1, 1}, 1, 3, v("x")});
  REQUIRE(out.writes.slots.size() == 1);
  CHECK(out.writes.slots[0].val == v("x"));
}

TEST_CASE("learner: votes split across ballots choose nothing") {
  learner_core l{opts(), 0};
  l.handle(learn{{1, 1}, 1, 1, v("x")});
  l.handle(learn{{2, 2}, 1, 2, v("y")});
  l.handle(learn{{3, 3}, 1, 3, v("z")});
  CHECK(l.delivered_upto() == 0);
}

TEST_CASE("learner: a stalled learner asks the leader, then the other peers, "
          "each time waiting twice as long") {
  learner_core l{opts(), 4};
  l.handle(chosen_hint{9, 3});
  std::vector<outgoing> asked;
  std::vector<int> when;
  for (int i = 1; i <= 21; ++i)
    for (auto& o : l.tick().send) {
      asked.push_back(o);
      when.push_back(i);
    }
  REQUIRE(asked.size() == 3);
  CHECK(when == std::vector<int>{3, 9, 21}); // 3, then 6, then 12 ticks
  CHECK(asked[0].to == 3); // the leader first
  auto& req = std::get<catchup_request>(asked[0].msg);
  CHECK(req.first_slot == 5);
  CHECK(req.max_slots == 10);
  CHECK(asked[1].to != 1); // never itself
  CHECK(asked[2].to != 1);
  CHECK(asked[1].to != asked[2].to);
  // A reply fills the gap.
  auto out = l.handle(catchup_reply{2, {{5, v("5")}, {6, v("6")}}, 6});
  CHECK(slots(out) == std::vector<uint64_t>{5, 6});
}

TEST_CASE("learner: an up-to-date learner asks nobody") {
  learner_core l{opts(), 0};
  l.handle(decide{1, v("a")});
  for (int i = 0; i < 10; ++i)
    CHECK(l.tick().send.empty());
}

TEST_CASE("learner: a slot decided twice with different values is caught") {
  learner_core l{opts(true), 0};
  l.handle(decide{1, v("a")});
  CHECK_NOTHROW(l.handle(decide{1, v("a")}));
  CHECK_THROWS_AS(l.handle(decide{1, v("b")}), std::logic_error);
  l.handle(decide{3, v("c")});
  CHECK_THROWS_AS(l.handle(decide{3, v("d")}), std::logic_error);
}

TEST_CASE("learner: a bare decide chooses the value its own acceptor reported "
          "for that ballot") {
  learner_core l{opts(), 0};
  // Our acceptor's vote: one of three, not a majority by itself.
  CHECK(l.handle(learn{{2, 3}, 1, 1, v("mine")}).writes.slots.empty());
  auto out = l.handle(decide{1, value{}, {2, 3}, true});
  REQUIRE(out.writes.slots.size() == 1);
  CHECK(out.writes.slots[0].val == v("mine"));
}

TEST_CASE("learner: a bare decide without the matching vote only says the slot "
          "is chosen, and catch-up fetches it") {
  learner_core l{opts(), 0};
  l.handle(learn{{1, 1}, 1, 1, v("old ballot")});
  CHECK(l.handle(decide{1, value{}, {2, 3}, true}).writes.slots.empty());
  CHECK(l.known_chosen() == 1);
  std::vector<outgoing> asked;
  for (int i = 0; i < 3; ++i)
    for (auto& o : l.tick().send)
      asked.push_back(o);
  REQUIRE(asked.size() == 1);
  CHECK(std::get<catchup_request>(asked[0].msg).first_slot == 1);
}

TEST_CASE("learner: a bare decide that overtakes its own acceptor's vote waits "
          "for the vote, and chooses only the decided ballot") {
  learner_core l{opts(), 0};
  CHECK(l.handle(decide{1, value{}, {2, 3}, true}).writes.slots.empty());
  // Our acceptor's vote at another ballot is not it.
  CHECK(l.handle(learn{{1, 1}, 1, 1, v("old ballot")}).writes.slots.empty());
  auto out = l.handle(learn{{2, 3}, 1, 1, v("mine")});
  REQUIRE(out.writes.slots.size() == 1);
  CHECK(out.writes.slots[0].val == v("mine"));
  CHECK(l.delivered_upto() == 1);
}

TEST_CASE("learner: votes of two values at one ballot never make a majority") {
  learner_core l{opts(false), 0};
  CHECK(l.handle(learn{{1, 1}, 1, 2, v("A")}).writes.slots.empty());
  // A second value at (1,1): a reused ballot. Not counted with the first.
  CHECK(l.handle(learn{{1, 1}, 1, 3, v("B")}).writes.slots.empty());
  auto out = l.handle(learn{{1, 1}, 1, 1, v("A")});
  REQUIRE(out.writes.slots.size() == 1);
  CHECK(out.writes.slots[0].val == v("A"));
  learner_core strict{opts(true), 0};
  strict.handle(learn{{1, 1}, 1, 2, v("A")});
  CHECK_THROWS_AS(strict.handle(learn{{1, 1}, 1, 3, v("B")}), std::logic_error);
}

TEST_CASE("learner: what it holds above a hole can be served to a peer that "
          "needs it") {
  learner_core l{opts(), 0};
  for (uint64_t s : {3, 4, 5, 7})
    l.handle(decide{s, v("x")});
  CHECK(l.delivered_upto() == 0);
  auto run = l.buffered(4, 10);
  REQUIRE(run.size() == 2);
  CHECK(run[0].slot == 4);
  CHECK(run[1].slot == 5);
  CHECK(l.buffered(6, 10).empty());
  CHECK(l.buffered(3, 1).size() == 1);
}

TEST_CASE("learner: a peer that answers slowly is given its round trip before "
          "the next ask") {
  learner_core l{opts(), 4};
  l.handle(chosen_hint{9, 3});
  catchup_request first;
  int t = 0;
  for (; t < 10; ++t)
    for (auto& o : l.tick().send)
      first = std::get<catchup_request>(o.msg);
  REQUIRE(first.sent != 0);
  // Its answer comes 500 ticks later, with nothing new in it.
  for (; t < 510; ++t)
    l.tick();
  l.handle(catchup_reply{3, {}, 4, first.sent});
  // The next asks wait at least that round trip.
  int asks = 0;
  for (int i = 0; i < 499; ++i)
    asks += static_cast<int>(l.tick().send.size());
  CHECK(asks == 0);
}

namespace {

/// The decided log as the storage holds it.
struct fake_log : learner_log {
  std::map<uint64_t, value> slots;
  std::vector<decide> decided(uint64_t first, size_t max) override {
    std::vector<decide> xs;
    for (auto s = first; xs.size() < max && slots.count(s) > 0; ++s)
      xs.push_back(decide{s, slots.at(s)});
    return xs;
  }
};

/// The progress the output reports to the own server: (to, upto) of the
/// learned_for_proposer and the learned_for_acceptor, in this order.
std::vector<std::pair<server_id, uint64_t>>
progress(const learner_output& out) {
  std::vector<std::pair<server_id, uint64_t>> xs;
  for (auto& o : out.send)
    if (auto p = std::get_if<learned_for_proposer>(&o.msg))
      xs.emplace_back(o.to, p->upto);
  for (auto& o : out.send)
    if (auto a = std::get_if<learned_for_acceptor>(&o.msg))
      xs.emplace_back(o.to, a->upto);
  return xs;
}

using progress_list = std::vector<std::pair<server_id, uint64_t>>;

} // namespace

TEST_CASE("learner: every delivery tells its own proposer and acceptor how "
          "far it got, once per input, and nothing else does") {
  learner_core l{opts(), 0};
  // Buffered above a hole: nothing delivered, nothing to tell.
  CHECK(progress(l.handle(decide{2, v("b")})).empty());
  CHECK(progress(l.handle(learn{{1, 1}, 3, 2, v("c")})).empty());
  // The hole closes: slots 1 and 2 in one write, then one report each.
  auto out = l.handle(decide{1, v("a")});
  CHECK(out.writes.slots.size() == 2);
  CHECK(progress(out) == progress_list{{1, 2}, {1, 2}});
  // A catch-up run delivers several slots: still one report each.
  auto run = l.handle(catchup_reply{2, {{3, v("c")}, {4, v("d")}}, 4});
  CHECK(run.writes.slots.size() == 2);
  CHECK(progress(run) == progress_list{{1, 4}, {1, 4}});
  // A repeat delivers nothing and tells nothing.
  CHECK(progress(l.handle(decide{4, v("d")})).empty());
  CHECK(progress(l.tick()).empty());
}

TEST_CASE("learner: its own server's new or restarted proposer and acceptor "
          "hear how far it got") {
  learner_core l{opts(), 6};
  auto own = l.announced(1);
  CHECK(progress(own) == progress_list{{1, 6}, {1, 6}});
  CHECK(own.send.size() == 2);
  CHECK(l.announced(2).send.empty());
}

TEST_CASE("learner: a catch-up request is answered from the decided log, "
          "then from the buffer if it continues the run, within the limit") {
  fake_log disk;
  for (uint64_t s = 1; s <= 4; ++s)
    disk.slots[s] = v("old");
  learner_core l{opts(), 4, &disk};
  for (uint64_t s : {6, 7, 8})
    l.handle(decide{s, v("new")}); // held above the hole at 5
  auto answer = [&](uint64_t first, uint32_t max) {
    auto out = l.handle(catchup_request{3, first, max, 77});
    REQUIRE(out.send.size() == 1);
    CHECK(out.send[0].to == 3);
    auto r = std::get<catchup_reply>(out.send[0].msg);
    CHECK(r.from == 1);
    CHECK(r.chosen_upto == 4);
    CHECK(r.echo == 77);
    std::vector<uint64_t> xs;
    for (auto& d : r.slots)
      xs.push_back(d.slot);
    return xs;
  };
  CHECK(answer(2, 5) == std::vector<uint64_t>{2, 3, 4});
  // The buffer continues a run that starts where the log ends.
  CHECK(answer(6, 5) == std::vector<uint64_t>{6, 7, 8});
  // Never more than catchup_max_slots (10), whatever the peer asks.
  for (uint64_t s = 5; s <= 20; ++s)
    disk.slots[s] = v("more");
  CHECK(answer(1, 100).size() == 10);
  CHECK(answer(1, 3).size() == 3);
}

TEST_CASE("learner: a catch-up reply fits the network's frame bound, with at "
          "least one slot") {
  fake_log disk;
  std::string big(1000, 'x');
  for (uint64_t s = 1; s <= 8; ++s)
    disk.slots[s] = value::of({command{1, s, "a", big}});
  auto o = opts();
  // Each slot carries about 1,100 bytes; a budget of 3,000 takes two.
  o.catchup_bytes_max = 3000;
  learner_core l{o, 8, &disk};
  auto reply = [&](uint64_t first) {
    auto out = l.handle(catchup_request{3, first, 10, 0});
    REQUIRE(out.send.size() == 1);
    return std::get<catchup_reply>(out.send[0].msg).slots.size();
  };
  CHECK(reply(1) == 2);
  CHECK(reply(7) == 2);
  // A single slot above the budget still goes: the peer must make progress
  // (node_config::validate keeps a slot below the frame bound).
  o.catchup_bytes_max = 10;
  learner_core tight{o, 8, &disk};
  auto out = tight.handle(catchup_request{3, 1, 10, 0});
  CHECK(std::get<catchup_reply>(out.send[0].msg).slots.size() == 1);
}
