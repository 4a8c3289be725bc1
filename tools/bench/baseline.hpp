#pragma once

// The unreplicated baseline for caf-bench: one sequencer actor orders every
// message (no Paxos, no peers, no storage) and streams the history to client
// sessions exactly as a learner does. It sits behind the same load balancer,
// server front protocol (`hello`/`welcome`) and client sessions, so the
// difference between the two runs is the replication.

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"

namespace cafchat::bench {

/// Spawns the sequencer and a front registered as server 1 with `lb`.
/// Returns the front; exiting it stops the sequencer too.
caf::actor spawn_baseline(caf::actor_system& sys, const caf::actor& lb,
                          uint32_t max_text_bytes);

} // namespace cafchat::bench
