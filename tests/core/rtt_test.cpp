#include <catch2/catch.hpp>

#include <random>

#include "actors/common/rtt.hpp"

using namespace cafchat;

// RFC 6298, 2.2 and 2.3: the first sample R gives SRTT = R, RTTVAR = R/2;
// later ones RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R;
// RTO = SRTT + 4 RTTVAR.
TEST_CASE("rtt: the estimate follows RFC 6298") {
  rtt_estimator e{1, 100000};
  CHECK(e.timeout() == 1); // the floor before any sample
  e.sample(100);
  CHECK(e.srtt() == 100);
  CHECK(e.rttvar() == 50);
  CHECK(e.timeout() == 300);
  e.sample(100);
  CHECK(e.srtt() == 100);
  CHECK(e.rttvar() == 38); // 37.5, rounded up
  for (int i = 0; i < 50; ++i)
    e.sample(100);
  CHECK(e.srtt() == 100);
  CHECK(e.timeout() <= 110); // a steady network: little margin left
  e.sample(1000);            // one slow round trip
  CHECK(e.srtt() > 100);
  CHECK(e.timeout() > 500);  // the deviation reacts at once
}

TEST_CASE("rtt: the timeout stays within its floor and cap") {
  rtt_estimator fast{10, 1000};
  for (int i = 0; i < 20; ++i)
    fast.sample(0); // faster than a tick
  CHECK(fast.timeout() == 10);
  rtt_estimator slow{10, 1000};
  slow.sample(60000);
  CHECK(slow.timeout() == 1000);
}

TEST_CASE("rtt: backoff doubles per failure, with jitter, up to the cap") {
  std::mt19937_64 rng{1};
  for (uint32_t failures = 0; failures < 6; ++failures) {
    auto t = backoff(100, failures, 1000000, rng);
    auto base = uint64_t{100} << failures;
    CHECK(t >= base);
    CHECK(t <= base + base / 4);
  }
  CHECK(backoff(100, 40, 5000, rng) == 5000);
  CHECK(backoff(0, 0, 10, rng) >= 1);
}

// A network that gets faster: under RFC 6298 alone each fast sample would
// raise RTTVAR by a quarter of the drop, and the timeout would climb above
// its slow-network value for rounds before it came down. A faster sample
// counts as at most RTTVAR away, so the deviation never grows on one.
TEST_CASE("rtt: a network that got faster brings the timeout down at once") {
  rtt_estimator e{300, 600000};
  for (int i = 0; i < 30; ++i)
    e.sample(2000); // a slow spell: acknowledgements take 2 s
  auto slow = e.timeout();
  CHECK(slow >= 2000);
  std::vector<uint64_t> after;
  for (int i = 0; i < 12; ++i) {
    e.sample(5); // healed
    after.push_back(e.timeout());
  }
  // Never above the slow value, down by a fair share every round, and near
  // the floor within a dozen rounds (RFC 6298 alone: 3.7 s after the first
  // fast sample, and 3.1 s after twelve).
  CHECK(after.front() <= slow);
  for (size_t i = 1; i < after.size(); ++i)
    CHECK(after[i] <= after[i - 1] * 9 / 10 + 1);
  CHECK(after.back() <= 800);
  // A slower sample still raises the deviation at the full gain.
  auto before = e.timeout();
  e.sample(3000);
  CHECK(e.timeout() >= before + 2000);
}
