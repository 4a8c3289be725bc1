#include <catch2/catch.hpp>

#include "actors/common/quorum.hpp"

using namespace cafchat;

TEST_CASE("quorum: a majority of 2f+1 is f+1, and f failures are tolerated") {
  struct row {
    size_t n, majority, failures;
  };
  for (auto r : {row{1, 1, 0}, row{2, 2, 0}, row{3, 2, 1}, row{4, 3, 1},
                 row{5, 3, 2}, row{7, 4, 3}}) {
    INFO("n = " << r.n);
    CHECK(majority(r.n) == r.majority);
    CHECK(max_failures(r.n) == r.failures);
    // Any two majorities intersect.
    CHECK(2 * majority(r.n) > r.n);
  }
}

TEST_CASE("quorum: a vote_set counts each voter once") {
  vote_set v{3};
  CHECK(v.needed() == 2);
  CHECK(v.add(1));
  CHECK_FALSE(v.add(1)); // a duplicated message is not a second vote
  CHECK_FALSE(v.reached());
  CHECK(v.add(3));
  CHECK(v.reached());
  CHECK(v.contains(3));
  CHECK_FALSE(v.contains(2));
}
