#pragma once

// The seeded randomised simulation (VOPR-style): one seed decides a whole
// run, a cluster of 2f+1 servers (f = 1 or 2) with several chatting clients
// on CAF's test coordinator, under a fault schedule drawn from the seed:
// message delays, loss up to 30 %, duplication, the rotating omission fault,
// per-phase delay rules, partitions, crashes and restarts of servers (their
// acceptor state kept), leader kills and skipped slots. Then every fault
// heals, and every submitted message must be delivered within a bounded
// simulated time. A checker over every client's and server's history then
// looks for violations of agreement, validity, no duplicates, per-client
// order and durability of acknowledged messages; every role checks its own
// invariants after every message. Replaying a seed replays the run exactly.

#include <cstdint>
#include <functional>
#include <string>

namespace cafchat::test {

struct sim_run_options {
  uint64_t seed = 1;
  /// Receives every line of the trace: the schedule, every server's and the
  /// simulator's events, client notices. Null: no trace.
  std::function<void(const std::string&)> trace;
  /// TEST ONLY: acceptors accept below their promise, and invariant checks
  /// are off, so only the history checker can notice.
  bool break_accept_rule = false;
};

struct sim_run_result {
  bool ok = true;
  std::string violation; ///< What went wrong, if !ok.
  // What the run was, and what it did.
  uint32_t f = 0;
  uint32_t clients = 0;
  uint64_t messages = 0;      ///< Chat messages submitted.
  uint64_t slots = 0;         ///< Slots decided.
  uint64_t faults = 0;        ///< Scheduled fault events.
  uint64_t dropped = 0;       ///< Peer messages the simulator lost.
  uint64_t duplicated = 0;
  uint64_t leader_changes = 0;
  double sim_seconds = 0;     ///< Simulated time until everything settled.
};

/// One run, decided by `opts.seed`.
sim_run_result run_simulation(const sim_run_options& opts);

} // namespace cafchat::test
