#pragma once

// The learner's protocol core: learns which value each slot chose and hands
// decided slots out strictly in slot order. No CAF, no I/O, no clock.
//
//   decide(s, v)                 -> s is chosen with v
//   decide(s, b, bare)           -> s is chosen with the value our own
//                                   acceptor accepted at b (its learn vote)
//   learn(b, s, v) from a
//     majority in the same b     -> s is chosen with v   (Paxos Made Simple 2.3)
//   catchup_reply                -> a run of chosen slots from a peer
//   catchup_request              -> the run a peer asks for, from the
//                                   decided log and then the buffer
//
// Delivered slots are the core's writes: the actor applies them to the
// state machine and makes them durable, and only then do the messages of the
// same output leave, among them the news to our own proposer and acceptor
// of how far the learner got (learned_for_proposer, learned_for_acceptor).
//
// Chosen slots above a hole wait in a bounded buffer. When the learner knows
// (from its own buffer or from a hint: a leader's heartbeat, relayed by our
// proposer, or the peers a rejoining acceptor asked) that slots past its
// prefix are chosen but gets nothing for `catchup_ticks`, it asks a peer
// learner for the missing run, trying the leader first and then the others in
// turn. A restarted or lagging server catches up this way, by itself.

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "actors/common/outgoing.hpp"
#include "actors/common/quorum.hpp"
#include "actors/common/rtt.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

struct learner_options {
  server_id id = 0;
  std::vector<server_id> servers; ///< Every server, self included.
  /// Stall time before asking a peer, at least: it follows the round trips
  /// to the peers asked (actors/common/rtt.hpp) and doubles per ask that
  /// brought nothing, up to timeout_max_ticks.
  uint32_t catchup_ticks = 10;
  uint32_t timeout_max_ticks = 60000;
  uint32_t catchup_max_slots = 256; ///< Slots per catch-up request.
  /// Payload bytes per catch-up reply, about (at least one slot): a reply
  /// must fit the network's frame bound ([runtime] max_frame_bytes).
  uint64_t catchup_bytes_max = 8u << 20;
  uint32_t buffer_max = 4096;     ///< Chosen slots held above a hole.
  bool check = false;             ///< Keep digests to verify re-decisions.
};

/// What the learner core hands out: chosen slots, contiguous after those
/// delivered before, in slot order. The actor applies them to the state
/// machine and writes them with what they add, before it sends.
struct delivered_slots {
  std::vector<decide> slots;
  bool empty() const { return slots.empty(); }
};

using learner_output = core_output<delivered_slots>;

/// The decided log, read through the storage (the core reads, the actor
/// writes).
class learner_log {
public:
  virtual ~learner_log() = default;
  /// Delivered slots from `first`, at most `max`, contiguous.
  virtual std::vector<decide> decided(uint64_t first, size_t max) = 0;
};

class learner_core {
public:
  using output = learner_output;
  struct snapshot {
    uint64_t delivered_upto = 0;
  };

  /// `log` serves catch-up requests; it must outlive the core (null: only
  /// what is buffered is served, as in the core tests).
  /// `last_time_ms`: the time of the last value delivered before (see
  /// value::time_ms), which the proposer stamps no batch below.
  learner_core(learner_options opts, uint64_t delivered_upto,
               learner_log* log = nullptr, uint64_t last_time_ms = 0);

  // -- learning --------------------------------------------------------------
  learner_output handle(const decide& msg);
  learner_output handle(const learn& msg);
  /// Slots up to `msg.chosen_upto` are chosen; `msg.peer` is the first to
  /// ask for them.
  learner_output handle(const chosen_hint& msg);

  // -- catch-up --------------------------------------------------------------
  learner_output tick();
  bool wants_ticks() const { return true; }
  learner_output handle(const catchup_request& msg);
  learner_output handle(const catchup_reply& msg);

  // -- own server ------------------------------------------------------------

  /// Server `server` announced its roles (it started, or restarted). Our
  /// own server's proposer and acceptor, new or restarted, hear how far we
  /// got.
  learner_output announced(server_id server);

  /// Chosen slots held above a hole, contiguous from `first`, at most `max`
  /// (catch-up serves them too: a peer may lack what this one has not yet
  /// delivered).
  std::vector<decide> buffered(uint64_t first, size_t max) const;

  uint64_t delivered_upto() const { return delivered_upto_; }
  uint64_t known_chosen() const { return known_chosen_; }
  size_t buffered() const { return chosen_.size(); }
  const learner_options& options() const { return opts_; }

  /// Throws std::logic_error if a slot is decided twice with different
  /// values (only detectable for delivered slots with `check` on).
  void check_invariants() const;
  /// Also throws if the delivered prefix shrank since `before`.
  void check_transition(const snapshot& before) const;
  snapshot snap() const { return {delivered_upto_}; }

private:
  struct tally {
    vote_set votes;
    value val;
  };

  void choose(uint64_t slot, const value& val, learner_output& out);
  void deliver_ready(learner_output& out);
  void verify_same(uint64_t slot, const value& val) const;
  learner_output progressed(learner_output&& out) const;
  void tell_local(learner_output& out) const;

  learner_options opts_;
  learner_log* log_ = nullptr;
  uint64_t delivered_upto_;
  uint64_t last_time_ = 0; ///< Latest value::time_ms delivered.
  uint64_t known_chosen_;
  std::map<uint64_t, value> chosen_;                      ///< Above the prefix.
  std::map<uint64_t, std::map<ballot, tally>> votes_;     ///< learn messages.
  /// Bare decides that came before our own acceptor's vote: slot -> ballot.
  std::map<uint64_t, ballot> bare_;
  std::vector<uint64_t> digests_; ///< Per delivered slot (check mode only).
  uint64_t digest_base_ = 0;      ///< Slot of digests_[0] minus one.

  uint64_t stall_ = 0;
  server_id leader_hint_ = 0;
  size_t next_peer_ = 0;
  uint32_t asks_ = 0;
  uint64_t now_ = 1; ///< Ticks since start; requests carry it.
  server_id asked_ = 0; ///< The peer asked last.
  std::map<server_id, rtt_estimator> rtt_;
  uint64_t stall_limit() const;
};

/// A 64-bit digest of a value, to compare decisions cheaply.
uint64_t digest(const value& v);

} // namespace cafchat
