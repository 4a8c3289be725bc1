// The storage contract (actors/storage/storage.hpp), checked on both
// implementations so that they behave alike: the memory storage that tests
// and the demo use, and LMDB. For LMDB every check after a restart reads
// what a new process would find on disk.

#include <algorithm>
#include <optional>

#include <catch2/catch.hpp>

#include "tests/storage/storage_fixture.hpp"

using namespace cafchat;
using namespace cafchat::test;

using strings = std::vector<std::string>;
using numbers = std::vector<uint64_t>;

namespace {

acceptor_writes accepts(std::optional<ballot> promised,
                        std::vector<accepted_slot> slots) {
  acceptor_writes w;
  w.promised = promised;
  w.accepted = std::move(slots);
  return w;
}

learner_writes applies(std::vector<decide> slots,
                       std::vector<chat_entry> entries,
                       std::vector<std::pair<uint64_t, uint64_t>> clients) {
  return learner_writes{std::move(slots), std::move(entries),
                        std::move(clients)};
}

strings all_accepted(acceptor_storage& s) {
  std::vector<accepted_slot> xs;
  for (auto& [slot, a] : s.load().accepted) {
    CHECK(slot == a.slot);
    xs.push_back(a);
  }
  return show(xs);
}

} // namespace

// -- acceptor -----------------------------------------------------------------

TEST_CASE("contract: the acceptor's meta record and the proposer's round are "
          "kept, and the round only rises") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  auto s = [&]() -> acceptor_storage& { return b.acceptor(); };
  CHECK_FALSE(s().load().meta.voting);
  CHECK(s().proposer_round() == 0);
  acceptor_writes w;
  w.meta = acceptor_meta{};
  w.meta->voting = true;
  w.meta->epoch = 3;
  w.meta->epochs = {{2, 5}, {4, 1}};
  w.meta->recovered_floor = 17;
  s().write(w);
  s().write_proposer_round(9);
  s().write_proposer_round(4); // lower: ignored
  for (int round = 0; round < 2; ++round) {
    INFO((round == 0 ? "before" : "after") << " a restart");
    auto st = s().load();
    CHECK(st.meta == *w.meta);
    CHECK(s().proposer_round() == 9);
    b.restart();
  }
}

TEST_CASE("contract: the acceptor's promise and accepted slots are kept") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> acceptor_storage& { return b.acceptor(); };
  CHECK(s().load().promised.is_zero());
  CHECK(s().load().accepted.empty());
  s().write(accepts(ballot{3, 2}, {acc(1, {3, 2}, "x"), acc(2, {3, 2}, "y")}));
  s().write(accepts(std::nullopt, {acc(4, {3, 2}, "z")}));
  for (int round = 0; round < 2; ++round) {
    INFO((round == 0 ? "before" : "after") << " a restart");
    auto st = s().load();
    CHECK(st.promised == ballot{3, 2});
    CHECK(all_accepted(s()) == strings{"1:x@3", "2:y@3", "4:z@3"});
    REQUIRE(st.accepted.count(4) == 1);
    CHECK(st.accepted.at(4).bal == ballot{3, 2});
    CHECK(st.accepted.at(4).val == text_value("z"));
    b.restart();
  }
}

TEST_CASE("contract: the promise only rises, and an accepted slot only moves "
          "up") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> acceptor_storage& { return b.acceptor(); };
  s().write(accepts(ballot{5, 1}, {acc(1, {5, 1}, "a"), acc(2, {5, 1}, "b")}));
  // A stale promise and a stale accept are not stored; an equal ballot
  // (a retransmission) and a higher one are.
  s().write(accepts(ballot{4, 3}, {acc(1, {4, 3}, "stale")}));
  s().write(accepts(std::nullopt, {acc(2, {5, 1}, "b"), acc(2, {6, 2}, "c")}));
  b.restart();
  CHECK(s().load().promised == ballot{5, 1});
  CHECK(all_accepted(s()) == strings{"1:a@5", "2:c@6"});
  s().write(accepts(ballot{7, 1}, {}));
  b.restart();
  CHECK(s().load().promised == ballot{7, 1});
}

TEST_CASE("contract: accepted_range gives slots from first, in order, at most "
          "max") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> acceptor_storage& { return b.acceptor(); };
  // Out of order and with holes, as a new leader's re-proposals arrive.
  s().write(accepts(ballot{2, 1}, {acc(9, {2, 1}, "i"), acc(2, {2, 1}, "b")}));
  s().write(accepts(std::nullopt, {acc(10, {2, 1}, "j"), acc(5, {2, 1}, "e")}));
  // Numeric order, not byte order: 256 is 0x100.
  s().write(accepts(std::nullopt, {acc(256, {2, 1}, "x")}));
  b.restart();
  CHECK(show(s().accepted_range(0, 100))
        == strings{"2:b@2", "5:e@2", "9:i@2", "10:j@2", "256:x@2"});
  CHECK(show(s().accepted_range(2, 100))
        == strings{"2:b@2", "5:e@2", "9:i@2", "10:j@2", "256:x@2"});
  CHECK(show(s().accepted_range(3, 2)) == strings{"5:e@2", "9:i@2"});
  CHECK(show(s().accepted_range(6, 100))
        == strings{"9:i@2", "10:j@2", "256:x@2"});
  CHECK(show(s().accepted_range(10, 1)) == strings{"10:j@2"});
  CHECK(show(s().accepted_range(11, 100)) == strings{"256:x@2"});
  CHECK(s().accepted_range(257, 100).empty());
  CHECK(s().accepted_range(1, 0).empty());
  CHECK(s().accepted_range(UINT64_MAX, 100).empty());
}

// -- learner ------------------------------------------------------------------

TEST_CASE("contract: the learner's slots, history and clients are kept") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> learner_storage& { return b.learner(); };
  auto st = s().load();
  CHECK(st.applied_upto == 0);
  CHECK(st.history_size == 0);
  CHECK(st.last_time_ms == 0);
  CHECK(st.clients.empty());
  s().write(applies({decide{1, text_value("hi", 1000)}, dec(2, ""),
                     decide{3, text_value("yo", 2000)}},
                    {entry(1, 1, "hi", 1000), entry(2, 3, "yo", 2000)},
                    {{7, 1}, {8, 4}, {7, 2}}));
  s().write(applies({dec(4, "")}, {}, {{8, 5}}));
  for (int round = 0; round < 2; ++round) {
    INFO((round == 0 ? "before" : "after") << " a restart");
    st = s().load();
    CHECK(st.applied_upto == 4);
    CHECK(st.history_size == 2);
    CHECK(st.last_time_ms == 2000); // the last entry's time
    std::sort(st.clients.begin(), st.clients.end());
    // A client written twice keeps the later seq.
    CHECK(st.clients
          == std::vector<std::pair<uint64_t, uint64_t>>{{7, 2}, {8, 5}});
    auto slots = s().decided(1, 10);
    REQUIRE(slots_of(slots) == numbers{1, 2, 3, 4});
    CHECK(slots[0].val == text_value("hi", 1000));
    CHECK(slots[1].val.is_noop());
    auto entries = s().history(1, 10);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0] == entry(1, 1, "hi", 1000));
    CHECK(entries[1] == entry(2, 3, "yo", 2000));
    b.restart();
  }
}

TEST_CASE("contract: a learner write with a gap throws and writes nothing") {
  struct row {
    const char* name;
    learner_writes w;
  };
  // The store holds slots 1..2 and entries 1..2. Each bad write also carries
  // valid parts (ahead of the bad one) that must not be stored either.
  const std::vector<row> rows = {
    {"a slot skipped", applies({dec(4, "")}, {}, {{7, 9}})},
    {"a slot repeated", applies({dec(2, "")}, {}, {{7, 9}})},
    {"a gap inside the batch",
     applies({dec(3, "c"), dec(5, "")}, {entry(3, 3, "c")}, {{7, 9}})},
    {"an entry skipped",
     applies({dec(3, "c"), dec(4, "d")}, {entry(4, 4, "d")}, {{7, 9}})},
    {"an entry repeated",
     applies({dec(3, "c")}, {entry(3, 3, "c"), entry(3, 3, "c")}, {{7, 9}})},
    {"slots out of order", applies({dec(4, ""), dec(3, "")}, {}, {})},
  };
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> learner_storage& { return b.learner(); };
  s().write(applies({dec(1, "a"), dec(2, "b")},
                  {entry(1, 1, "a"), entry(2, 2, "b")}, {{7, 2}}));
  for (auto& r : rows) {
    INFO(r.name);
    CHECK_THROWS_AS(s().write(r.w), std::logic_error);
    for (int round = 0; round < 2; ++round) {
      auto st = s().load();
      CHECK(st.applied_upto == 2);
      CHECK(st.history_size == 2);
      CHECK(st.clients == std::vector<std::pair<uint64_t, uint64_t>>{{7, 2}});
      CHECK(slots_of(s().decided(1, 10)) == numbers{1, 2});
      CHECK(indexes_of(s().history(1, 10)) == numbers{1, 2});
      b.restart();
    }
  }
  // And the store still takes the right continuation.
  s().write(applies({dec(3, "c")}, {entry(3, 3, "c")}, {}));
  CHECK(s().load().applied_upto == 3);
}

TEST_CASE("contract: decided and history read ranges within bounds") {
  backend b{GENERATE(false, true)};
  INFO(b.name());
  // Through `b` each time: a restart replaces LMDB's objects.
  auto s = [&]() -> learner_storage& { return b.learner(); };
  for (uint64_t i = 1; i <= 10; i += 2)
    s().write(applies({dec(i, "m"), dec(i + 1, "n")},
                    {entry(i, i, "m"), entry(i + 1, i + 1, "n")}, {}));
  b.restart();
  CHECK(slots_of(s().decided(0, 3)) == numbers{1, 2, 3});
  CHECK(slots_of(s().decided(1, 3)) == numbers{1, 2, 3});
  CHECK(slots_of(s().decided(4, 3)) == numbers{4, 5, 6});
  CHECK(slots_of(s().decided(9, 5)) == numbers{9, 10});
  CHECK(slots_of(s().decided(10, 1)) == numbers{10});
  CHECK(s().decided(11, 5).empty());
  CHECK(s().decided(5, 0).empty());
  CHECK(s().decided(UINT64_MAX, 5).empty());
  CHECK(indexes_of(s().history(0, 2)) == numbers{1, 2});
  CHECK(indexes_of(s().history(7, 100)) == numbers{7, 8, 9, 10});
  CHECK(indexes_of(s().history(10, 100)) == numbers{10});
  CHECK(s().history(11, 100).empty());
  CHECK(s().history(3, 0).empty());
  auto e = s().history(6, 1);
  REQUIRE(e.size() == 1);
  CHECK(e[0] == entry(6, 6, "n"));
}
