#pragma once

// A global view of what every acceptor announces, across every server,
// restart and lost disk, checked against the Paxos invariants at every step
// (tests and the seeded simulation; production runs without one):
//
//   1. one value per (slot, ballot): no proposer ever proposes, and no two
//      acceptors ever accept, different values in one slot at one ballot
//      (a proposer never reuses a ballot, not even after a restart);
//   2. one chosen value per slot: at most one value is ever accepted by a
//      majority at any ballot;
//   3. a ballot is used once: no proposer runs phase 1 at a ballot it (or an
//      earlier incarnation of it on the same storage) ran before. After a
//      lost disk the old rounds are gone; a new one is then safe as long as
//      no ballot with proposals is reused, which 1 checks;
//   4. a promise holds for the storage that made it: an acceptor never
//      accepts below a ballot it announced a promise for, as long as its
//      storage (its epoch) is the same. A lost write that a reply depended
//      on breaks this; a lost disk starts a new epoch, whose safety rests on
//      1 and 2 (and the rejoin rule, docs/protocol.md).
//
// Thread-safe: roles of several servers may call it at once.

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "messages/paxos.hpp"

namespace cafchat {

class paxos_monitor {
public:
  explicit paxos_monitor(size_t acceptors) : acceptors_(acceptors) {}

  /// Proposer `p`, on storage of epoch `epoch`, started phase 1 at `b`.
  void campaigned(server_id p, uint64_t epoch, const ballot& b);

  /// Proposer `p` sent an accept for `v` in `slot` at `b`.
  void proposed(server_id p, uint64_t slot, const ballot& b, const value& v);

  /// Acceptor `a`, storage epoch `epoch`, sent a promise for `b`.
  void promised(server_id a, uint64_t epoch, const ballot& b);

  /// Acceptor `a`, storage epoch `epoch`, sent `accepted` for `v` in `slot`
  /// at `b`.
  void accepted(server_id a, uint64_t epoch, uint64_t slot, const ballot& b,
                const value& v);

  /// The first violation seen ("" if none).
  std::string violation() const;

  /// Slots for which a majority accepted one value at one ballot.
  size_t chosen_slots() const;

private:
  void fail(std::string what);

  size_t acceptors_;
  mutable std::mutex mtx_;
  std::string violation_;
  struct slot_ballot {
    bool seen = false;
    value val;
    std::set<server_id> by; ///< Acceptors that accepted it.
  };
  bool same_value(slot_ballot& sb, const value& v, const std::string& who,
                  uint64_t slot, const ballot& b);
  std::map<std::pair<uint64_t, ballot>, slot_ballot> accepted_;
  std::map<uint64_t, std::pair<ballot, value>> chosen_;
  std::map<std::pair<server_id, uint64_t>, ballot> promises_;
  std::set<std::pair<uint64_t, ballot>> campaigns_; ///< (epoch, ballot)
};

} // namespace cafchat
