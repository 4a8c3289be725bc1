#pragma once

// Helpers for the proposer core's tests: its options for a three-server
// cluster, a batch value, and an election run to the end.

#include <catch2/catch.hpp>

#include <initializer_list>
#include <vector>

#include "actors/proposer/proposer_core.hpp"
#include "tests/core/helpers.hpp"

namespace cafchat::test {

inline proposer_options opts(server_id id, bool prevote = false,
                             uint32_t window = 4, uint32_t batch = 1) {
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

inline value batch_of(std::initializer_list<command> cs) {
  return value::of(std::vector<command>(cs));
}

/// Runs phase 1 to completion with promises from `voters` (empty reports).
inline proposer_output elect(proposer_core& p,
                             std::vector<server_id> voters = {1, 2}) {
  auto out = p.campaign();
  auto prep = sent<prepare>(out.send);
  REQUIRE(prep.size() == 1);
  proposer_output last;
  for (auto v : voters)
    last = p.handle(promise{prep[0].bal, v, prep[0].first_slot, {}, 0, {}});
  REQUIRE(p.role() == proposer_role::leader);
  return last;
}

} // namespace cafchat::test
