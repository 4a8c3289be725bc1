#include "actors/proposer/proposer_core.hpp"

#include <algorithm>
#include <vector>

// The proposer's phase 2: the leader fills its window with re-proposals and
// batches of queued commands, stamps each batch's time, closes holes with
// no-ops, and decides a slot once a majority accepted it; a nack of its
// ballot makes it step down. The leader's tick (proposer_election.cpp)
// resends what is unanswered.

namespace cafchat {

// -- phase 2 -----------------------------------------------------------------

void proposer_core::propose(proposer_output& out, uint64_t slot, value val) {
  out.send.push_back({all_servers, accept{bal_, slot, val, now_}});
  in_flight_[slot] = flight{std::move(val), vote_set(opts_.servers.size()), 0, 0};
}

void proposer_core::fill_window(proposer_output& out) {
  // Never more than `window` slots past the chosen prefix: a slot decided
  // far above a hole would outrun what learners buffer.
  while (role_ == proposer_role::leader
         && (opts_.break_window_rule
               ? in_flight_.size() < opts_.window
               : next_slot_ <= learned_upto_ + opts_.window)) {
    if (next_slot_ <= repropose_upto_) {
      // Known chosen or not, a slot our learner lacks is proposed again with
      // the value phase 1 found (the same one, if it was chosen), so that
      // the decision reaches our learner.
      auto s = next_slot_++;
      if (s <= learned_upto_ || in_flight_.count(s) > 0)
        continue;
      auto i = adopted_.find(s);
      if (i != adopted_.end()) {
        propose(out, s, i->second.val);
        adopted_.erase(i);
      } else {
        out.notes.push_back({"noop_fill", s, bal_, 0});
        propose(out, s, value::noop());
      }
      continue;
    }
    if (pending_.empty())
      break;
    std::vector<command> batch;
    size_t bytes = 0;
    while (!pending_.empty() && batch.size() < opts_.batch_max) {
      auto& c = pending_.front();
      size_t n = c.text.size() + c.from.size() + 16;
      if (!batch.empty() && bytes + n > opts_.batch_bytes_max)
        break;
      bytes += n;
      unqueue(c);
      batch.push_back(std::move(c));
      pending_.pop_front();
    }
    if (skip_next_) {
      skip_next_ = false;
      out.notes.push_back({"slot_skipped", next_slot_, bal_, 0});
      ++next_slot_;
    }
    propose(out, next_slot_++, value::of(std::move(batch), stamp()));
  }
}

uint64_t proposer_core::stamp() {
  // Never before what the history already shows, nor before our own last
  // batch: a leader whose clock is behind its predecessor's (or that went
  // back) keeps the times along the history from going backwards.
  if (opts_.break_time_rule)
    return wall_ms_;
  time_floor_ = std::max(time_floor_, wall_ms_);
  return time_floor_;
}

void proposer_core::fill_holes(proposer_output& out) {
  // A slot below next_slot_ that is neither in flight nor known chosen was
  // never proposed at this ballot (an operator skip): close it with a no-op.
  // Safe: phase 1 at bal_ found no value there, or we would have proposed it.
  for (uint64_t s = chosen_upto_ + 1; s < next_slot_; ++s) {
    if (in_flight_.count(s) > 0 || chosen_above_.count(s) > 0)
      continue;
    out.notes.push_back({"noop_fill", s, bal_, 0});
    propose(out, s, value::noop());
  }
}

proposer_output proposer_core::handle(const accepted& msg) {
  proposer_output out;
  if (role_ != proposer_role::leader || msg.bal != bal_)
    return out;
  sample(msg.from, msg.echo);
  heard_.insert(msg.from);
  auto i = in_flight_.find(msg.slot);
  if (i == in_flight_.end())
    return out;
  i->second.votes.add(msg.from);
  if (!i->second.votes.reached())
    return out;
  // A server whose acceptor accepted already holds the value: a bare decide
  // names it. The others get it in full, and so does our own learner (a
  // local message): the leader's learner then holds every chosen value, so
  // catch-up from it always has what a peer lacks.
  auto& f = i->second;
  for (auto s : opts_.servers)
    if (s == opts_.id)
      continue;
    else if (f.votes.contains(s))
      out.send.push_back({s, decide{msg.slot, value{}, bal_, true}});
    else
      out.send.push_back({s, decide{msg.slot, f.val, bal_, false}});
  out.send.push_back({opts_.id, decide{msg.slot, std::move(f.val), bal_, false}});
  in_flight_.erase(i);
  mark_chosen(msg.slot);
  fill_window(out);
  return out;
}

proposer_output proposer_core::handle(const nack& msg) {
  proposer_output out;
  see(msg.promised);
  if (msg.rejected == bal_)
    sample(msg.from, msg.echo);
  if (role_ == proposer_role::leader && msg.rejected == bal_)
    heard_.insert(msg.from);
  bool ours = (role_ == proposer_role::candidate
               || role_ == proposer_role::leader)
              && msg.rejected == bal_ && msg.promised > bal_;
  if (ours)
    step_down(out, true, "nacked");
  return out;
}
} // namespace cafchat
