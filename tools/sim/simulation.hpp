#pragma once

// The seeded randomised simulation (VOPR-style): one seed decides a whole
// run, a cluster of 2f+1 servers (f = 1 or 2) with several chatting clients
// on CAF's test coordinator, under a fault schedule drawn from the seed:
// message delays, loss up to 30 %, duplication, the rotating omission fault,
// per-phase delay rules, partitions, crashes and restarts of servers (their
// storage kept), leader kills, skipped slots, lost disks (a restart with
// empty storage), power cuts that lose the write in flight, proposers
// restarted in the middle of an election, tiny windows, buffers and queues,
// and clients whose text limit exceeds some servers'. Then every fault
// heals, and every submitted message must be delivered (or, if a server
// refused it, withdrawn) within a bounded simulated time, unless more disks
// were lost at once than the cluster tolerates: then the right outcome is
// waiting, and only safety is checked. A global monitor checks the Paxos
// invariants over every acceptor at every step; a checker over every
// client's and server's history then looks for violations of agreement,
// validity, no duplicates, per-client order and durability of acknowledged
// messages; every role checks its own invariants after every message.
// Replaying a seed replays the run exactly.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cafchat::test {

struct sim_run_options {
  uint64_t seed = 1;
  /// Receives every line of the trace: the schedule, every server's and the
  /// simulator's events, client notices. Null: no trace.
  std::function<void(const std::string&)> trace;
  /// TEST ONLY: break one safety or liveness rule (see `rules()`), to show
  /// that the simulation catches it. Invariant checks of the roles are off
  /// then, so only the global checks can notice.
  std::string broken_rule;
};

/// The rules a run can break on purpose, with what breaking one means.
const std::vector<std::pair<std::string, std::string>>& breakable_rules();

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
  uint64_t wipes = 0;         ///< Disks lost.
  uint64_t power_cuts = 0;    ///< Writes lost (and servers stopped) by them.
  uint64_t bounces = 0;       ///< Proposers restarted amid an election.
  uint64_t withdrawn = 0;     ///< Messages a server refused, then withdrawn.
  bool fatal = false;         ///< More disks lost than the cluster tolerates.
  bool slow = false;          ///< One-way delays of up to a minute.
  double sim_seconds = 0;     ///< Simulated time until everything settled.
};

/// One run, decided by `opts.seed`.
sim_run_result run_simulation(const sim_run_options& opts);

} // namespace cafchat::test
