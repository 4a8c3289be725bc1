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
