#include "actors/proposer/proposer_core.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

// The proposer core's start, client commands, learning, the operator's skip
// and the invariant checks. Leader election and the timers are in
// proposer_election.cpp, phase 1 in proposer_phase1.cpp, phase 2 and
// batching in proposer_phase2.cpp.

namespace cafchat {

const char* to_string(proposer_role r) {
  switch (r) {
    case proposer_role::follower:
      return "follower";
    case proposer_role::precandidate:
      return "precandidate";
    case proposer_role::candidate:
      return "candidate";
    case proposer_role::leader:
      return "leader";
  }
  return "?";
}

void proposer_options::validate() const {
  if (servers.empty()
      || std::find(servers.begin(), servers.end(), id) == servers.end())
    throw std::invalid_argument("proposer: its own id is not among the servers");
  if (election_ticks == 0 || retry_ticks == 0 || heartbeat_ticks == 0
      || window == 0 || batch_max == 0)
    throw std::invalid_argument("proposer: a tick count or limit is zero");
  if (timeout_max_ticks < std::max({election_ticks, retry_ticks,
                                    heartbeat_ticks}))
    throw std::invalid_argument("proposer: timeout_max_ticks is below a "
                                "timeout's floor");
}

proposer_core::proposer_core(proposer_options opts, proposer_state loaded)
  : opts_(std::move(opts)),
    rng_(opts_.seed * 0x9E3779B97F4A7C15ull + opts_.id),
    prevotes_(opts_.servers.size()),
    next_slot_(loaded.learned_upto + 1),
    chosen_upto_(loaded.learned_upto),
    learned_upto_(loaded.learned_upto) {
  opts_.validate();
  joined_ = opts_.joined;
  if (!opts_.break_ballot_rule) {
    // Every ballot this proposer used before had a round up to here.
    stored_round_ = loaded.round;
    if (stored_round_ > 0)
      max_seen_ = ballot{stored_round_, opts_.id};
  }
  reset_election_timer(false);
}

// -- client commands ---------------------------------------------------------

proposer_output proposer_core::submit(std::vector<command> cmds) {
  proposer_output out;
  if (cmds.empty())
    return out;
  if (role_ == proposer_role::follower && leader_ != 0 && leader_ != id()) {
    out.send.push_back({leader_, forward{id(), std::move(cmds)}});
    return out;
  }
  enqueue(cmds, false, out);
  if (role_ == proposer_role::leader)
    fill_window(out);
  else if (role_ == proposer_role::follower && leader_ == 0 && failures_ == 0)
    // Nobody leads and we have work: run for leader now rather than after a
    // full election timeout.
    start_campaign(out);
  return out;
}

proposer_output proposer_core::handle(const forward& msg) {
  // A forward that reaches a non-leader is buffered, never forwarded again:
  // two servers with stale views must not bounce commands between them.
  proposer_output out;
  auto cmds = msg.commands;
  enqueue(cmds, false, out);
  if (role_ == proposer_role::leader)
    fill_window(out);
  return out;
}

void proposer_core::enqueue(std::vector<command>& cmds, bool front,
                            proposer_output& out) {
  // A client resends what it has not seen acknowledged; one copy waiting is
  // enough (the state machine would skip the second anyway, after spending
  // a slot on it). No client takes more than its share of the queue
  // (client_max), so one that floods cannot starve the others.
  size_t room = opts_.pending_max > pending_.size()
                  ? opts_.pending_max - pending_.size()
                  : 0;
  std::vector<command> take;
  uint64_t full = 0;
  uint64_t over_share = 0;
  for (auto& c : cmds) {
    if (queued_.count({c.client, c.seq}) > 0)
      continue;
    if (take.size() >= room) {
      ++full;
      continue;
    }
    if (opts_.client_max > 0) {
      auto& n = per_client_[c.client];
      if (n >= opts_.client_max) {
        ++over_share;
        continue;
      }
      ++n;
    }
    queued_.insert({c.client, c.seq});
    take.push_back(std::move(c));
  }
  if (full > 0) {
    dropped_ += full;
    out.notes.push_back({"queue_full", 0, bal_, full});
  }
  if (over_share > 0) {
    dropped_ += over_share;
    out.notes.push_back({"client_queue_full", 0, bal_, over_share});
  }
  if (front)
    pending_.insert(pending_.begin(), std::make_move_iterator(take.begin()),
                    std::make_move_iterator(take.end()));
  else
    pending_.insert(pending_.end(), std::make_move_iterator(take.begin()),
                    std::make_move_iterator(take.end()));
}

void proposer_core::unqueue(const command& c) {
  queued_.erase({c.client, c.seq});
  if (auto i = per_client_.find(c.client); i != per_client_.end())
    if (--i->second == 0)
      per_client_.erase(i);
}

// -- learning ----------------------------------------------------------------

void proposer_core::mark_chosen(uint64_t slot) {
  if (slot <= chosen_upto_)
    return;
  chosen_above_.insert(slot);
  absorb_chosen();
}

void proposer_core::absorb_chosen() {
  while (!chosen_above_.empty() && *chosen_above_.begin() == chosen_upto_ + 1) {
    chosen_above_.erase(chosen_above_.begin());
    ++chosen_upto_;
  }
}

void proposer_core::advance_chosen(uint64_t upto) {
  if (upto > chosen_upto_) {
    chosen_upto_ = upto;
    chosen_above_.erase(chosen_above_.begin(), chosen_above_.upper_bound(upto));
    absorb_chosen();
  }
  // What our learner holds needs no proposing any more.
  in_flight_.erase(in_flight_.begin(), in_flight_.upper_bound(learned_upto_));
  if (next_slot_ <= learned_upto_)
    next_slot_ = learned_upto_ + 1;
}

proposer_output proposer_core::handle(const joined& msg) {
  proposer_output out;
  if (!opts_.break_ballot_rule)
    see(msg.promised);
  joined_ = true;
  return out;
}

proposer_output proposer_core::handle(const learned_for_proposer& msg) {
  proposer_output out;
  time_floor_ = std::max(time_floor_, msg.time_ms);
  auto chosen_upto = msg.upto;
  learned_upto_ = std::max(learned_upto_, chosen_upto);
  advance_chosen(chosen_upto);
  if (role_ == proposer_role::leader)
    fill_window(out);
  return out;
}

void proposer_core::flush_pending(proposer_output& out) {
  if (pending_.empty() || leader_ == 0 || leader_ == id())
    return;
  forward f{id(), {}};
  f.commands.assign(std::make_move_iterator(pending_.begin()),
                    std::make_move_iterator(pending_.end()));
  pending_.clear();
  queued_.clear();
  per_client_.clear();
  out.send.push_back({leader_, std::move(f)});
}

// -- operator ----------------------------------------------------------------

bool proposer_core::skip_slot() {
  if (role_ != proposer_role::leader)
    return false;
  skip_next_ = true;
  return true;
}

// -- invariants --------------------------------------------------------------

proposer_core::snapshot proposer_core::snap() const {
  snapshot s{max_seen_, bal_, chosen_upto_, {}, time_floor_};
  if (role_ == proposer_role::leader)
    for (auto& [slot, f] : in_flight_)
      s.proposals.emplace(slot, f.val);
  return s;
}

void proposer_core::check_invariants() const {
  auto fail = [&](const std::string& what) {
    throw std::logic_error("proposer " + std::to_string(id()) + ": " + what);
  };
  if (bal_ > max_seen_)
    fail("own ballot above the highest ballot seen");
  if (role_ == proposer_role::leader && leader_ != id())
    fail("leader that does not know it leads");
  if (role_ != proposer_role::leader && !in_flight_.empty())
    fail("slots in flight without leading");
  if (!in_flight_.empty() && in_flight_.rbegin()->first >= next_slot_)
    fail("slot in flight at or above next_slot");
  if (!in_flight_.empty() && in_flight_.begin()->first <= learned_upto_)
    fail("slot in flight that our learner already holds");
  if (learned_upto_ > chosen_upto_)
    fail("learned beyond the chosen prefix");
  if (pending_.size() > opts_.pending_max)
    fail("queue above pending_max");
  if (queued_.size() != pending_.size())
    fail("queue index out of step with the queue");
  if (opts_.client_max > 0) {
    size_t counted = 0;
    for (auto& [client, n] : per_client_) {
      if (n > opts_.client_max)
        fail("a client above its share of the queue");
      counted += n;
    }
    if (counted != pending_.size())
      fail("per-client counts out of step with the queue");
  }
}

void proposer_core::check_transition(const snapshot& before) const {
  check_invariants();
  auto fail = [&](const std::string& what) {
    throw std::logic_error("proposer " + std::to_string(id()) + ": " + what);
  };
  if (max_seen_ < before.max_seen)
    fail("highest ballot seen decreased");
  if (chosen_upto_ < before.chosen_upto)
    fail("chosen prefix decreased");
  if (time_floor_ < before.time_floor)
    fail("time floor decreased");
  if (role_ == proposer_role::leader && bal_ == before.bal)
    for (auto& [slot, f] : in_flight_) {
      auto i = before.proposals.find(slot);
      if (i != before.proposals.end() && i->second != f.val)
        fail("slot " + std::to_string(slot)
             + " proposed with two values in one ballot");
    }
}

} // namespace cafchat
