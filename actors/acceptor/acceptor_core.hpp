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

#include <cstdint>
#include <map>
#include <optional>
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

/// The result of one input: persist `writes`, then send `reply`.
struct acceptor_output {
  acceptor_writes writes;
  std::variant<std::monostate, promise, accepted, nack> reply;
};

class acceptor_core {
public:
  acceptor_core(server_id id, acceptor_state initial);

  /// TEST ONLY: accept below the promise, breaking Paxos. The simulation's
  /// checker must catch the disagreement this causes (tests/sim).
  void break_accept_rule(bool on) { broken_ = on; }

  // -- phase 1 ---------------------------------------------------------------
  acceptor_output handle(const prepare& msg);

  // -- phase 2 ---------------------------------------------------------------
  acceptor_output handle(const accept& msg);

  // -- accessors -------------------------------------------------------------
  server_id id() const { return id_; }
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
};

} // namespace cafchat
