#pragma once

// The proposer's protocol core: Multi-Paxos with a distinguished proposer
// (the leader), leader election by heartbeats and randomised timeouts, and
// PreVote + CheckQuorum so that a server that can send but not receive
// neither forces elections nor keeps a useless leadership. No CAF, no I/O,
// no clock: time enters as ticks.
//
//                 election timeout           prevote majority
//     +----------+  (no heartbeat)  +--------------+      +-----------+
//     | follower |----------------->| precandidate |----->| candidate |
//     +----------+                  +--------------+      +-----------+
//        ^  ^  ^    prevote timeout        |                  |  | promise
//        |  |  +---------------------------+                  |  | majority
//        |  |      nack / timeout (randomised backoff)        |  v
//        |  +-------------------------------------------------+ +--------+
//        |    nack, higher heartbeat, CheckQuorum failure       | leader |
//        +------------------------------------------------------+--------+
//
// Phase 1 runs once per ballot for every slot from the first one this
// proposer does not know to be chosen. The new leader re-proposes, per slot,
// the value with the highest ballot any promise reported, and a no-op in
// every hole below the highest such slot. Phase 2 then runs per slot, never
// more than `window` slots past what its own learner holds (so decisions never
// run further ahead of a hole than learners buffer); client commands wait in a
// bounded queue and go out in batches of up to `batch_max` commands, so a
// lone client is never held back and a busy leader fills slots.
//
// A batch is stamped once, when the leader forms it, with the wall time its
// caller last gave (`set_time`: the core reads no clock), but never earlier
// than the last time its learner learned, a value phase 1 adopted, or its
// own previous batch. Re-proposed values keep their time.
//
// Ballots are never reused, not even across restarts: the round of every
// new ballot is made durable before its prepare leaves (`writes.round`),
// and a restarted proposer starts above the stored round. A proposer whose
// server lost its storage does not campaign until its acceptor has rejoined
// (`joined`), and then starts above the ballot the acceptor rejoined at.
// Phase 1 does not count a promise made by storage that has since been
// lost: promises carry their storage's epoch and the newest epochs their
// acceptor knows of others.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "actors/common/outgoing.hpp"
#include "actors/common/quorum.hpp"
#include "actors/common/rtt.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

struct proposer_options {
  server_id id = 0;
  std::vector<server_id> servers; ///< Every server (acceptor), self included.
  // Timeouts follow the network (actors/common/rtt.hpp); these are their
  // floors, and where they start before anything is measured.
  uint32_t heartbeat_ticks = 5;   ///< Leader heartbeat period, at least.
  uint32_t election_ticks = 50;   ///< Followers wait a random [e, 2e), e >= this.
  uint32_t retry_ticks = 10;      ///< Phase timeout (resend, retry), at least.
  uint32_t timeout_max_ticks = 60000; ///< No timeout grows beyond this.
  uint32_t window = 64;           ///< Slots in flight, at most.
  uint32_t batch_max = 256;       ///< Commands per slot, at most.
  uint32_t batch_bytes_max = 1u << 20; ///< Payload bytes per slot, at most.
  uint32_t pending_max = 100000;  ///< Queued commands, at most.
  /// Queued commands of one client, at most (0: no share; [limits]
  /// queue_max_per_client).
  uint32_t client_max = 10000;
  bool prevote = true;
  uint64_t seed = 1;
  /// Its acceptor votes (false: it is rejoining after lost storage, and
  /// this proposer must not campaign until `joined`).
  bool joined = true;
  /// TEST ONLY: forget the ballot round across restarts (no durable round),
  /// so a restarted proposer reuses its ballots; the simulation must catch it.
  bool break_ballot_rule = false;
  /// TEST ONLY: bound slots in flight, not slots past the chosen prefix, so
  /// decisions may outrun what learners buffer (the rule this replaced).
  bool break_window_rule = false;
  /// TEST ONLY: stamp batches with the wall time alone, earlier than what
  /// was learned if the clock says so.
  bool break_time_rule = false;

  /// Throws std::invalid_argument naming the first bad option.
  void validate() const;
};

enum class proposer_role : uint8_t { follower, precandidate, candidate, leader };

const char* to_string(proposer_role r);

/// Durable before any message of the same output is sent.
struct proposer_writes {
  std::optional<uint64_t> round; ///< A new highest ballot round.
  bool empty() const { return !round; }
};

using proposer_output = core_output<proposer_writes>;

/// What a proposer starts from.
struct proposer_state {
  /// The highest round this proposer used before (from storage).
  uint64_t round = 0;
  /// The local learner holds every slot up to here.
  uint64_t learned_upto = 0;
};

class proposer_core {
public:
  using output = proposer_output;

  explicit proposer_core(proposer_options opts, proposer_state loaded = {});

  // -- client commands -------------------------------------------------------

  /// Orders commands: the leader queues them for phase 2, a follower
  /// forwards them to the leader it knows, or buffers them until it knows one.
  proposer_output submit(std::vector<command> cmds);
  proposer_output handle(const forward& msg);

  // -- leader election -------------------------------------------------------

  proposer_output tick();
  bool wants_ticks() const { return true; }
  /// Starts an election now (PreVote first when enabled).
  proposer_output campaign();
  proposer_output handle(const prevote_request& msg);
  proposer_output handle(const prevote_reply& msg);
  /// A heartbeat also tells our learner how far the chosen prefix reaches,
  /// and whom to ask for it (chosen_hint, to our own server).
  proposer_output handle(const heartbeat& msg);
  proposer_output handle(const heartbeat_reply& msg);

  // -- phase 1 ---------------------------------------------------------------

  proposer_output handle(const promise& msg);

  // -- phase 2 ---------------------------------------------------------------

  proposer_output handle(const accepted& msg);
  proposer_output handle(const nack& msg);

  // -- lost storage ----------------------------------------------------------

  /// The local acceptor votes, having promised `msg.promised`: campaigns
  /// may start, above that ballot.
  proposer_output handle(const joined& msg);

  // -- learning --------------------------------------------------------------

  /// The local learner has every slot up to `msg.upto`. Only this, and the
  /// leader's own decisions, advance the chosen prefix: phase 1 starts right
  /// after it, so every slot not durably learned here is rediscovered from
  /// the acceptors. `msg.time_ms` is the time of the last history entry it
  /// holds: no batch of ours is stamped earlier.
  proposer_output handle(const learned_for_proposer& msg);

  // -- time ------------------------------------------------------------------

  /// The wall time now, UTC milliseconds, for stamping batches. The actor
  /// sets it before every call; tests give simulated time.
  void set_time(uint64_t utc_ms) { wall_ms_ = utc_ms; }

  // -- operator --------------------------------------------------------------

  /// The leader leaves the next slot unproposed: a hole that the hole filler
  /// (or the next leader's phase 1) closes with a no-op.
  bool skip_slot();

  // -- accessors -------------------------------------------------------------

  server_id id() const { return opts_.id; }
  proposer_role role() const { return role_; }
  const ballot& current_ballot() const { return bal_; }
  const ballot& max_seen() const { return max_seen_; }
  server_id leader() const { return leader_; }
  /// The timeouts in force, in ticks: the round trip a majority answers
  /// within (the phase timeout before backoff), the heartbeat period, the
  /// follower's election timeout before randomising, and the CheckQuorum
  /// period.
  uint64_t round_trip_timeout() const;
  uint64_t heartbeat_interval() const;
  uint64_t election_base() const;
  uint64_t check_period() const;
  /// The smoothed round trip to the majority - 1 fastest peers (0 before
  /// any sample), for the event log.
  uint64_t fastest_quorum_srtt() const;
  uint64_t chosen_upto() const { return chosen_upto_; }
  uint64_t next_slot() const { return next_slot_; }
  size_t in_flight() const { return in_flight_.size(); }
  size_t pending() const { return pending_.size(); }
  uint64_t dropped() const { return dropped_; }
  /// No batch is stamped earlier than this (the latest time learned,
  /// adopted or stamped).
  uint64_t time_floor() const { return time_floor_; }
  const proposer_options& options() const { return opts_; }

  /// What `check_transition` compares.
  struct snapshot {
    ballot max_seen;
    ballot bal;
    uint64_t chosen_upto = 0;
    std::map<uint64_t, value> proposals; ///< In flight at `bal`.
    uint64_t time_floor = 0;
  };
  snapshot snap() const;

  /// Throws std::logic_error on a broken invariant of the state alone.
  void check_invariants() const;
  /// Throws std::logic_error on a broken transition: the highest ballot seen,
  /// the chosen prefix and the time floor never decrease, and within one
  /// ballot a slot's proposed value never changes.
  void check_transition(const snapshot& before) const;

private:
  struct flight {
    value val;
    vote_set votes;
    uint64_t elapsed = 0;
    uint32_t resends = 0; ///< Each resend waits twice as long.
  };

  void start_campaign(proposer_output& out);
  void start_phase1(proposer_output& out);
  void become_leader(proposer_output& out);
  void step_down(proposer_output& out, bool failed, const char* why);
  void propose(proposer_output& out, uint64_t slot, value val);
  void fill_window(proposer_output& out);
  void fill_holes(proposer_output& out);
  uint64_t stamp();
  void flush_pending(proposer_output& out);
  void mark_chosen(uint64_t slot);
  void absorb_chosen();
  void advance_chosen(uint64_t upto);
  void enqueue(std::vector<command>& cmds, bool front, proposer_output& out);
  /// A queued command leaves the queue.
  void unqueue(const command& c);
  void reset_election_timer(bool backoff);
  void see(const ballot& b);
  void sample(server_id from, uint64_t echo);
  void heard_heartbeat(const heartbeat& msg);
  proposer_output follow(const heartbeat& msg);
  size_t counted_promises() const;
  size_t quorum() const { return majority(opts_.servers.size()); }

  proposer_options opts_;
  std::mt19937_64 rng_;
  proposer_role role_ = proposer_role::follower;
  ballot bal_;      ///< Our ballot while candidate or leader.
  ballot max_seen_; ///< Highest ballot seen anywhere.
  server_id leader_ = 0;

  // Timers, in ticks.
  uint64_t now_ = 1; ///< Ticks since start; requests carry it, replies echo it.
  uint64_t election_elapsed_ = 0;
  uint64_t election_timeout_ = 0;
  uint64_t heartbeat_elapsed_ = 0;
  uint64_t phase_elapsed_ = 0;
  uint64_t phase_timeout_ = 0;
  uint64_t check_elapsed_ = 0;
  uint64_t hole_elapsed_ = 0;
  uint32_t failures_ = 0; ///< Consecutive failed elections, for backoff.

  // What the network is like: round trips to each peer (from echoes), and,
  // as a follower, the gaps between the current leader's heartbeats.
  std::map<server_id, rtt_estimator> rtt_;
  rtt_estimator gaps_;
  uint64_t last_heartbeat_ = 0;
  server_id gaps_of_ = 0;
  uint64_t leader_interval_ = 0; ///< The period the leader announced.

  // PreVote and phase 1.
  vote_set prevotes_;
  uint64_t prevote_round_ = 0;
  /// Promises for bal_: the storage epoch each came from, and the newest
  /// epoch any promise reported for each acceptor.
  std::map<server_id, uint64_t> promise_epochs_;
  std::map<server_id, uint64_t> known_epochs_;
  uint64_t p1_first_ = 1;
  std::map<uint64_t, accepted_slot> adopted_;
  /// A new leader's re-proposals: every slot up to here not known chosen
  /// gets its adopted value or a no-op, window by window.
  uint64_t repropose_upto_ = 0;
  bool joined_ = true;
  uint64_t stored_round_ = 0;

  // Phase 2.
  uint64_t next_slot_ = 1;
  std::map<uint64_t, flight> in_flight_;
  std::deque<command> pending_;
  std::set<std::pair<uint64_t, uint64_t>> queued_; ///< (client, seq) pending.
  std::map<uint64_t, uint32_t> per_client_; ///< Queued per client (client_max).
  bool skip_next_ = false;
  uint64_t dropped_ = 0;
  uint64_t wall_ms_ = 0;    ///< The time now, as the caller last said.
  uint64_t time_floor_ = 0; ///< See time_floor().

  // CheckQuorum: servers heard from during the current period.
  std::set<server_id> heard_;

  // Chosen slots known here: all of [1, chosen_upto_] plus chosen_above_.
  uint64_t chosen_upto_ = 0;
  /// What the local learner holds durably: phase 1 starts right after it,
  /// and the window counts from it (so the leader's own learner, which
  /// gets every decision in full, never has to drop one).
  std::set<uint64_t> chosen_above_;
  uint64_t learned_upto_ = 0;
};

} // namespace cafchat
