#include <catch2/catch.hpp>

#include "actors/learner/chat_state.hpp"
#include "tests/core/helpers.hpp"

using namespace cafchat;
using namespace cafchat::test;

TEST_CASE("chat state: commands become numbered history entries") {
  chat_state st;
  auto e = st.apply(1, value::of({cmd(7, 1, "hello"), cmd(8, 1, "hi")}));
  REQUIRE(e.size() == 2);
  CHECK(e[0].index == 1);
  CHECK(e[0].slot == 1);
  CHECK(e[0].text == "hello");
  CHECK(e[0].from == "user7");
  CHECK(e[1].index == 2);
  CHECK(st.size() == 2);
}

TEST_CASE("chat state: no-ops add nothing") {
  chat_state st;
  CHECK(st.apply(1, value::noop()).empty());
  CHECK(st.size() == 0);
}

TEST_CASE("chat state: a retried command is applied once") {
  chat_state st;
  st.apply(1, value::of({cmd(7, 1)}));
  CHECK(st.apply(2, value::of({cmd(7, 1)})).empty());
  CHECK(st.last_seq(7) == 1);
  CHECK(st.size() == 1);
}

TEST_CASE("chat state: a command that overtook an earlier one waits for its "
          "retry, so a client's order holds") {
  chat_state st;
  CHECK(st.apply(1, value::of({cmd(7, 2)})).empty()); // seq 1 not applied yet
  CHECK(st.apply(2, value::of({cmd(7, 1)})).size() == 1);
  auto e = st.apply(3, value::of({cmd(7, 2)}));
  REQUIRE(e.size() == 1);
  CHECK(e[0].seq == 2);
  CHECK(e[0].index == 2);
}

TEST_CASE("chat state: an entry has its batch's time, or the previous "
          "entry's if that is later") {
  chat_state st;
  auto a = st.apply(1, value::of({cmd(7, 1), cmd(8, 1)}, 5000));
  REQUIRE(a.size() == 2);
  CHECK(a[0].time_ms == 5000);
  CHECK(a[1].time_ms == 5000);
  // A batch stamped earlier (two leaders' values interleaved in the log,
  // with clocks that differ) shows the time before it.
  auto b = st.apply(2, value::of({cmd(7, 2)}, 4000));
  REQUIRE(b.size() == 1);
  CHECK(b[0].time_ms == 5000);
  CHECK(st.apply(3, value::noop()).empty());
  auto c = st.apply(4, value::of({cmd(7, 3)}, 6000));
  CHECK(c.at(0).time_ms == 6000);
  CHECK(st.last_time() == 6000);
  // A batch that adds no entry (a retry) moves no time: the rule depends on
  // the entries alone, which a restarted learner reads back from storage.
  CHECK(st.apply(5, value::of({cmd(7, 3)}, 9000)).empty());
  CHECK(st.apply(6, value::of({cmd(8, 2)}, 7000)).at(0).time_ms == 7000);
}

TEST_CASE("chat state: with the time rule broken, entries take their batch's "
          "time") {
  chat_state st;
  st.break_time_rule();
  st.apply(1, value::of({cmd(7, 1)}, 5000));
  CHECK(st.apply(2, value::of({cmd(7, 2)}, 4000)).at(0).time_ms == 4000);
}

TEST_CASE("chat state: restored state continues numbering and dedup") {
  chat_state st{10, {{7, 4}}};
  CHECK(st.apply(20, value::of({cmd(7, 4)})).empty());
  auto e = st.apply(21, value::of({cmd(7, 5)}));
  REQUIRE(e.size() == 1);
  CHECK(e[0].index == 11);
  chat_state timed{10, {{7, 4}}, 8000};
  CHECK(timed.apply(21, value::of({cmd(7, 5)}, 7000)).at(0).time_ms == 8000);
}
