#pragma once

// The acceptor's protocol core: no CAF, no I/O, no clock. Paxos Made Simple,
// section 2.2, extended to a log of slots as in Multi-Paxos.
//
//   state   promised : ballot                 (one promise covers every slot
//                                              from a prepare's first_slot on)
//           accepted : slot -> (ballot, value)
//
//   prepare(b, s)    b >= promised  -> promised := b; promise(b, accepted[>= s])
//                    otherwise      -> nack(promised)
//   accept(b, s, v)  b >= promised  -> promised := b; accepted[s] := (b, v);
//                                      accepted(b, s)
//                    otherwise      -> nack(promised)
//
// A repeated prepare or accept at the promised ballot is answered again (it is
// a retransmission from the same proposer, since a ballot names its node and
// a proposer never reuses one, not even across restarts). An accept that
// names a (slot, ballot) already accepted with a different value breaks that
// rule: it is refused and reported, never answered.
//
// Every output comes with the writes that must be durable before its
// messages are sent (etcd raft's Ready: persist, then send).
//
// Lost storage. An acceptor that forgot a promise or an accepted value could
// let two different values be chosen, so one whose storage is new does not
// vote unless it is a founding member of a brand-new cluster (declared by
// the operator, never inferred). Otherwise it rejoins:
//
//   rejoining/probe    ask every other acceptor about itself (state_query),
//                      until a majority of the cluster's voting acceptors
//                      other than this one answered; meanwhile its learner
//                      catches up to what they have delivered
//   rejoining/prepare  run a phase 1 of its own over the others
//                      (rejoin_prepare): a ballot above every promise they
//                      reported, of node 0, which no proposer uses, and a
//                      storage epoch above every epoch they
//                      know for it; each voting peer that promises records
//                      the new epoch and reports its accepted slots. Once a
//                      majority of the cluster other than this acceptor
//                      promised, it adopts per slot the highest-ballot value
//                      reported, promises its own ballot, and votes
//   voting             the rules above
//
// docs/protocol.md ("Lost storage") argues why this is safe whatever the
// acceptor promised or accepted before it lost its storage.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "actors/common/outgoing.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

/// What an acceptor keeps about itself beside its promise and its log. It is
/// written whole whenever it changes (rarely: on joining, and when a peer
/// rejoins).
struct acceptor_meta {
  /// This storage has voted: it belonged to a founding member, or it
  /// rejoined. Until then the acceptor must not vote.
  bool voting = false;
  /// This storage's epoch: 0 for a founding member, new on every rejoin.
  uint64_t epoch = 0;
  /// The newest storage epoch known of every acceptor that rejoined.
  std::map<server_id, uint64_t> epochs;
  /// Slots up to here were chosen before this storage rejoined: promises
  /// report them from the local learner's decided log.
  uint64_t recovered_floor = 0;

  friend bool operator==(const acceptor_meta& a, const acceptor_meta& b) {
    return a.voting == b.voting && a.epoch == b.epoch && a.epochs == b.epochs
           && a.recovered_floor == b.recovered_floor;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, acceptor_meta& x) {
  return f(x.voting, x.epoch, x.epochs, x.recovered_floor);
}

/// The acceptor's durable state, as loaded from storage.
struct acceptor_state {
  ballot promised;
  std::map<uint64_t, accepted_slot> accepted;
  acceptor_meta meta;
};

/// Writes that must reach stable storage before the messages that go with
/// them are sent.
struct acceptor_writes {
  std::optional<ballot> promised;        ///< Set when the promise changed.
  std::vector<accepted_slot> accepted;   ///< Slots accepted by this input.
  std::optional<acceptor_meta> meta;     ///< Set when the meta changed.

  bool empty() const { return !promised && accepted.empty() && !meta; }
  void merge(acceptor_writes&& other);
};

enum class acceptor_mode : uint8_t { voting, rejoining };

const char* to_string(acceptor_mode m);

/// Durable slots the core keeps out of memory, read through the storage
/// (etcd raft's Storage interface: the core reads, the actor writes).
class acceptor_log {
public:
  virtual ~acceptor_log() = default;
  /// Accepted slots numbered `first` or higher, in slot order, at most `max`.
  virtual std::vector<accepted_slot> accepted_range(uint64_t first,
                                                    size_t max) = 0;
  /// Chosen values of slots `first` on, at most `max`, from the local
  /// learner's decided log.
  virtual std::vector<decide> chosen_range(uint64_t first, size_t max) = 0;
};

struct acceptor_options {
  server_id id = 0;
  std::vector<server_id> servers; ///< Every acceptor, this one included.
  uint64_t incarnation = 0;       ///< Unique per start of this server.
  /// A founding member of a brand-new cluster: with new storage it votes at
  /// once (the operator declared the cluster new; see docs/operations.md).
  bool founder = false;
  /// Also tell every learner, not just our own, what we accept (learn =
  /// votes), so learners can count a majority themselves.
  bool learn_votes = false;
  /// While rejoining: ticks between rounds of probes and prepares, at
  /// first; each round waits twice as long as the last, up to 16 times
  /// this (and probe_max_ticks).
  uint32_t probe_ticks = 10;
  uint32_t probe_max_ticks = 60000;
  /// While rejoining: how far the local learner may still lag behind the
  /// peers' delivered slots when the rejoin phase 1 starts (its reports
  /// cover what the learner lacks, so this bounds their size).
  uint64_t rejoin_lag_max = 4096;
  /// TEST ONLY: accept below the promise, breaking Paxos. The simulation's
  /// checker must catch the disagreement this causes (tests/sim).
  bool break_accept_rule = false;
  /// TEST ONLY: a rejoining acceptor votes at once with what it has (the
  /// rule this core replaced); the simulation must catch it.
  bool break_rejoin_rule = false;

  /// Throws std::invalid_argument naming the first bad option.
  void validate() const;
};

/// The result of one input: persist `writes`, then send `send`.
using acceptor_output = core_output<acceptor_writes>;

class acceptor_core {
public:
  /// `log` reads what is not in memory; it must outlive the core (null:
  /// everything is in memory, as in the core tests).
  acceptor_core(acceptor_options opts, acceptor_state initial,
                acceptor_log* log = nullptr);

  using output = acceptor_output;
  using snapshot = acceptor_state;

  /// What to persist and send right after start: a founding member records
  /// that it votes; a rejoining one sends its first probes.
  acceptor_output start();

  /// One tick passed.
  acceptor_output tick();
  /// Ticks matter only while rejoining: a voting acceptor only answers.
  bool wants_ticks() const { return mode_ == acceptor_mode::rejoining; }

  /// Server `server` announced its roles (it started, or restarted). Our
  /// own server's proposer, new or restarted, hears that we vote: it may
  /// campaign once we do.
  acceptor_output announced(server_id server);

  // -- phase 1 ---------------------------------------------------------------
  acceptor_output handle(const prepare& msg);

  // -- phase 2 ---------------------------------------------------------------
  acceptor_output handle(const accept& msg);

  // -- lost storage ----------------------------------------------------------
  acceptor_output handle(const state_query& msg);
  acceptor_output handle(const state_reply& msg);
  acceptor_output handle(const rejoin_prepare& msg);
  acceptor_output handle(const rejoin_reply& msg);

  // -- from the local learner -----------------------------------------------

  /// The local learner has every slot up to `msg.upto`. Accepted slots up to
  /// there leave memory (they stay in storage, where a promise for old slots
  /// reads them): memory holds a window, not the whole log.
  acceptor_output handle(const learned_for_acceptor& msg);

  // -- accessors -------------------------------------------------------------
  server_id id() const { return opts_.id; }
  acceptor_mode mode() const { return mode_; }
  const ballot& promised() const { return state_.promised; }
  const acceptor_meta& meta() const { return state_.meta; }
  const std::map<uint64_t, accepted_slot>& accepted_slots() const {
    return state_.accepted;
  }
  const accepted_slot* find(uint64_t slot) const;
  uint64_t trimmed_upto() const { return trimmed_upto_; }
  /// Why a rejoining acceptor does not vote yet, in words ("" when voting).
  std::string waiting_for() const;
  const acceptor_options& options() const { return opts_; }

  /// Checks the state alone (throws std::logic_error on a violation):
  /// no slot was accepted above the promise.
  void check_invariants() const;

  /// Checks a transition from `before` (throws std::logic_error): the
  /// promise never decreases and no accepted slot moves to a lower ballot
  /// or changes its value within one.
  void check_transition(const snapshot& before) const;

  /// A copy of the state, for `check_transition`.
  snapshot snap() const { return state_; }

private:
  // -- rejoining -------------------------------------------------------------
  struct rejoin {
    enum class phase : uint8_t { probe, prepare } at = phase::probe;
    std::map<server_id, state_reply> replies; ///< Newest per voting peer.
    uint64_t target = 0;      ///< The learner should reach this first.
    uint64_t max_round = 0;   ///< Highest promised round anyone reported.
    uint64_t max_epoch = 0;   ///< Highest epoch of ours anyone reported.
    ballot bal;               ///< This attempt's.
    uint64_t epoch = 0;
    uint64_t first_slot = 1;
    std::map<server_id, rejoin_reply> oks; ///< Promised (bal, epoch).
    uint64_t elapsed = 0;
    uint32_t rounds = 0; ///< Rounds sent in this phase.
  };

  size_t others_needed() const;
  void probe(acceptor_output& out);
  void try_prepare(acceptor_output& out);
  void catch_up(acceptor_output& out, uint64_t upto, server_id from);
  void tell_joined(acceptor_output& out);
  void send_rejoin(acceptor_output& out);
  void finish_rejoin(acceptor_output& out);
  std::vector<accepted_slot> report(uint64_t first_slot);
  void vote(acceptor_output& out, const accept& msg);
  std::vector<std::pair<server_id, uint64_t>> epochs_list() const;

  acceptor_options opts_;
  acceptor_state state_;
  acceptor_log* log_ = nullptr;
  acceptor_mode mode_ = acceptor_mode::voting;
  bool first_start_ = false; ///< A founder that still has to record it.
  rejoin rejoin_;
  uint64_t learned_upto_ = 0;
  uint64_t trimmed_upto_ = 0;
};

} // namespace cafchat
