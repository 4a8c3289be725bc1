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
// a retransmission from the same proposer, since a ballot names its node).
// Every reply comes with the writes that must be durable before it is sent.
//
// Lost state. An acceptor that forgot a promise could let two different
// values be chosen, so one whose storage was just created (a new or wiped
// data directory: it cannot tell whether it voted before) does not vote at
// once (after "Paxos Made Live", 5.1):
//
//   probing     ask every other acceptor (state_query) whether it holds state;
//               any "yes" means this acceptor may have voted before -> recovering;
//               f+1 "no" answers mean a brand-new cluster -> voting; so does
//               silence for `probe_ticks` from everybody else who holds state
//               (safe while a lost disk counts as one of the f failures: with
//               history, a majority holds state, so a live holder answers).
//               An acceptor that started a new cluster this way vouches for
//               the peers it counted as empty (by incarnation): they have
//               voted nowhere since, so they may vote at once.
//   recovering  answer no prepare and no accept; note the first slot an
//               accept arrives for after the restart, and every ballot seen;
//               once the local learner has that slot (an instance that began
//               after the restart is complete), promise the highest ballot seen
//               and vote from then on
//   voting      the rules above

#include <cstdint>
#include <map>
#include <optional>
#include <algorithm>
#include <variant>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

/// The acceptor's durable state, as loaded from storage.
struct acceptor_state {
  ballot promised;
  std::map<uint64_t, accepted_slot> accepted;
};

/// Writes that must reach stable storage before the reply leaves.
struct acceptor_writes {
  std::optional<ballot> promised;        ///< Set when the promise changed.
  std::vector<accepted_slot> accepted;   ///< Slots accepted by this input.

  bool empty() const { return !promised && accepted.empty(); }
  void merge(acceptor_writes&& other);
};

enum class acceptor_mode : uint8_t { voting, probing, recovering };

const char* to_string(acceptor_mode m);

/// The result of one input: persist `writes`, then send `reply`.
struct acceptor_output {
  acceptor_writes writes;
  std::variant<std::monostate, promise, accepted, nack> reply;
  /// A promise that reaches below the slots kept in memory: the actor adds
  /// the accepted slots in [first, last] from storage (0, 0: none).
  std::pair<uint64_t, uint64_t> from_storage{0, 0};
};

class acceptor_core {
public:
  /// `cluster_size` counts every acceptor, this one included. With
  /// `fresh_store` (its storage was created, not reopened) an acceptor with
  /// no state in a cluster of more than one starts probing.
  acceptor_core(server_id id, acceptor_state initial, size_t cluster_size = 1,
                uint64_t incarnation = 0, bool fresh_store = false);

  /// TEST ONLY: accept below the promise, breaking Paxos. The simulation's
  /// checker must catch the disagreement this causes (tests/sim).
  void break_accept_rule(bool on) { broken_ = on; }

  // -- phase 1 ---------------------------------------------------------------
  acceptor_output handle(const prepare& msg);

  // -- phase 2 ---------------------------------------------------------------
  acceptor_output handle(const accept& msg);

  // -- lost state ------------------------------------------------------------

  /// Answers another acceptor's probe (in any mode).
  state_reply handle(const state_query& msg) const;
  /// A probe answer; may move probing to voting or recovering.
  void handle(const state_reply& msg);
  /// One probe period passed; after `probe_ticks` of them without a peer
  /// holding state, a probing acceptor votes.
  void probe_tick(uint32_t probe_ticks);
  /// The local learner has every slot up to `upto`; may end recovery, with
  /// the promise to persist. Accepted slots up to `upto` leave memory (they
  /// stay in storage, where a promise for old slots reads them): memory
  /// holds a window, not the whole log.
  acceptor_writes learned(uint64_t upto);
  /// Slots up to here are in storage only.
  uint64_t trimmed_upto() const { return trimmed_upto_; }

  // -- accessors -------------------------------------------------------------
  server_id id() const { return id_; }
  acceptor_mode mode() const { return mode_; }
  const ballot& promised() const { return state_.promised; }
  const std::map<uint64_t, accepted_slot>& accepted_slots() const {
    return state_.accepted;
  }
  const accepted_slot* find(uint64_t slot) const;

  /// Checks the state alone (throws std::logic_error on a violation):
  /// no slot was accepted above the promise.
  void check_invariants() const;

  /// Checks a transition from `before` (throws std::logic_error): the
  /// promise never decreases and no accepted slot moves to a lower ballot.
  void check_transition(const acceptor_state& before) const;

  /// A copy of the state, for `check_transition`.
  const acceptor_state& state() const { return state_; }

private:
  server_id id_;
  acceptor_state state_;
  bool broken_ = false;
  void start_voting_as_new();
  acceptor_mode mode_ = acceptor_mode::voting;
  size_t cluster_size_ = 1;
  uint64_t incarnation_ = 0;
  /// Probe answers without state: (server, incarnation).
  std::vector<std::pair<server_id, uint64_t>> empty_peers_;
  /// Who was empty when this acceptor started a brand-new cluster.
  std::vector<std::pair<server_id, uint64_t>> vouch_for_;
  uint32_t probe_elapsed_ = 0;
  ballot seen_;                        ///< Highest ballot seen while silent.
  uint64_t first_slot_ = 0;            ///< First accept slot while recovering.
  uint64_t trimmed_upto_ = 0;
};

} // namespace cafchat
