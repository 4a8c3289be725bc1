#include "actors/proposer/proposer_core.hpp"

#include <algorithm>
#include <vector>

// The proposer's phase 1: a candidate makes its ballot durable and prepares
// it, counts promises (not those of lost storage) and adopts the values
// they report, then leads; and how any role steps down to follower.

namespace cafchat {

// -- phase 1 -----------------------------------------------------------------

void proposer_core::start_phase1(proposer_output& out) {
  role_ = proposer_role::candidate;
  leader_ = 0;
  bal_ = ballot{max_seen_.round + 1, id()};
  max_seen_ = bal_;
  if (bal_.round > stored_round_ && !opts_.break_ballot_rule) {
    // Durable before the prepare leaves: a restart starts above it.
    stored_round_ = bal_.round;
    out.writes.round = bal_.round;
  }
  phase_elapsed_ = 0;
  if (!opts_.prevote)
    phase_timeout_ = backoff(round_trip_timeout(), failures_,
                             opts_.timeout_max_ticks, rng_);
  promise_epochs_.clear();
  known_epochs_.clear();
  adopted_.clear();
  repropose_upto_ = 0;
  // From what our learner holds, not from what we decided ourselves: a slot
  // it never got is found again among the acceptors and decided anew.
  p1_first_ = learned_upto_ + 1;
  out.notes.push_back({"candidate", p1_first_, bal_, 0});
  out.send.push_back({all_servers, prepare{bal_, p1_first_, now_}});
}

proposer_output proposer_core::handle(const promise& msg) {
  proposer_output out;
  if (msg.bal == bal_)
    sample(msg.from, msg.echo);
  if (role_ == proposer_role::leader && msg.bal == bal_)
    heard_.insert(msg.from);
  if (role_ != proposer_role::candidate || msg.bal != bal_)
    return out;
  auto mine = promise_epochs_.find(msg.from);
  if (mine != promise_epochs_.end() && mine->second >= msg.epoch)
    return out; // a duplicate (or older storage's): already counted
  promise_epochs_[msg.from] = msg.epoch;
  auto& k = known_epochs_[msg.from];
  k = std::max(k, msg.epoch);
  for (auto& [acceptor, epoch] : msg.epochs) {
    auto& e = known_epochs_[acceptor];
    e = std::max(e, epoch);
  }
  // Every report is true of the acceptor that made it, so merging them all
  // is safe (more than a quorum's reports only adds proposals that were
  // safe at their ballots); what must exclude a lost storage's promise is
  // the count.
  for (auto& a : msg.accepted) {
    if (a.slot < p1_first_)
      continue;
    auto i = adopted_.find(a.slot);
    if (i == adopted_.end() || a.bal > i->second.bal)
      adopted_[a.slot] = a;
  }
  if (counted_promises() >= quorum())
    become_leader(out);
  return out;
}

size_t proposer_core::counted_promises() const {
  // A promise counts unless some promise shows that its acceptor's storage
  // has since been replaced (it rejoined with a newer epoch): the lost
  // storage's promise binds nothing any more.
  size_t n = 0;
  for (auto& [acceptor, epoch] : promise_epochs_) {
    auto k = known_epochs_.find(acceptor);
    if (k == known_epochs_.end() || epoch >= k->second)
      ++n;
  }
  return n;
}

void proposer_core::become_leader(proposer_output& out) {
  role_ = proposer_role::leader;
  leader_ = id();
  failures_ = 0;
  heard_.clear();
  check_elapsed_ = 0;
  in_flight_.clear();
  uint64_t top = chosen_upto_;
  if (!adopted_.empty())
    top = std::max(top, adopted_.rbegin()->first);
  // What we re-propose comes before our new batches, with its own time.
  for (auto& [slot, a] : adopted_)
    time_floor_ = std::max(time_floor_, a.val.time_ms);
  if (!chosen_above_.empty())
    top = std::max(top, *chosen_above_.rbegin());
  out.notes.push_back({"leader", p1_first_, bal_, top});
  // Re-propose what the promises reported and fill every hole with a no-op,
  // so no slot below `top` stays undecided (fill_window does it, a window
  // at a time).
  repropose_upto_ = top;
  next_slot_ = std::max(p1_first_, learned_upto_ + 1);
  heartbeat_elapsed_ = 0;
  out.send.push_back({all_servers, heartbeat{bal_, id(), chosen_upto_, now_,
                                             heartbeat_interval()}});
  fill_window(out);
}

void proposer_core::step_down(proposer_output& out, bool failed,
                              const char* why) {
  auto was = role_;
  role_ = proposer_role::follower;
  if (was == proposer_role::leader || was == proposer_role::candidate)
    out.notes.push_back({why, 0, bal_, 0});
  if (leader_ == id())
    leader_ = 0;
  // Commands in flight may or may not get chosen: queue them again. The
  // state machine drops any that end up in the log twice.
  std::vector<command> again;
  for (auto& [slot, f] : in_flight_)
    for (auto& c : f.val.commands)
      again.push_back(c);
  in_flight_.clear();
  adopted_.clear();
  repropose_upto_ = 0;
  enqueue(again, true, out);
  if (failed)
    ++failures_;
  reset_election_timer(failed);
}
} // namespace cafchat
