#pragma once

// The fault schedule of one simulation run (tools/sim/simulation.hpp): from
// the seed alone, the cluster (f = 1 or 2), its parameters and network
// faults, the clients' chat lines, and the timed fault events: kills,
// restarts, partitions, skipped slots, lost disks, power cuts, bounced
// leaders and candidates. The run loop (simulation.cpp) plays it.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tools/sim/harness.hpp"
#include "tools/sim/simulation.hpp"

namespace cafchat::test {

enum class fault_kind {
  say,
  kill,
  kill_leader,
  restart,
  isolate,
  split,
  heal,
  skip_slot,
  isolate_leader,   ///< A network blip: cut the leader off, healed shortly.
  wipe,             ///< A lost disk: the server restarts with empty storage.
  power_cut,        ///< The server's next write is lost; the server stops.
  bounce_leader,    ///< The leader crashes and restarts at once.
  bounce_candidate, ///< Whoever campaigns crashes and restarts at once.
  fatal_wipe,       ///< f+1 disks lost at once: beyond what f tolerates.
  campaign,         ///< A (restarted) proposer runs for leader at once.
};

/// The fault's name in the trace ("kill_leader").
const char* name_of(fault_kind k);

/// One event of the schedule: a fault, or a chat line (`say`).
struct scheduled {
  caf::timespan at;
  fault_kind kind;
  uint32_t arg = 0;              ///< Server id or client index.
  std::vector<server_id> group;  ///< split, fatal_wipe
};

/// Everything a seed decides before the run starts.
struct plan {
  uint32_t f = 1;
  /// A slow network: the longest one-way delay 1 s to a minute, and an
  /// omission fault (if any) moving every 3 to 6 minutes; timeouts must
  /// follow it (docs/design.md, "Timeouts").
  bool slow = false;
  harness_options cluster;
  uint32_t clients = 2;
  caf::timespan fault_phase{};
  std::vector<scheduled> events;
};

/// The run's randomness, all from its seed.
class dice {
public:
  explicit dice(uint64_t seed) : rng_(seed * 0x9E3779B97F4A7C15ull + 0x5EED) {}
  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
  }
  double real(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(rng_() >> 11) * 0x1.0p-53);
  }
  std::mt19937_64& engine() { return rng_; }

private:
  std::mt19937_64 rng_;
};

/// Draws the whole plan of a run from `d` (seeded with `o.seed`).
plan make_plan(const sim_run_options& o, dice& d);

} // namespace cafchat::test
