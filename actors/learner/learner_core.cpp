#include "actors/learner/learner_core.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cafchat {

uint64_t digest(const value& v) {
  // FNV-1a over the fields; collisions only weaken a test-time check.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    auto b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  auto k = static_cast<uint8_t>(v.kind);
  mix(&k, 1);
  mix(&v.time_ms, sizeof(v.time_ms));
  for (auto& c : v.commands) {
    mix(&c.client, sizeof(c.client));
    mix(&c.seq, sizeof(c.seq));
    mix(c.from.data(), c.from.size());
    mix("\0", 1);
    mix(c.text.data(), c.text.size());
    mix("\0", 1);
  }
  return h;
}

learner_core::learner_core(learner_options opts, uint64_t delivered_upto,
                           learner_log* log, uint64_t last_time_ms)
  : opts_(std::move(opts)),
    log_(log),
    delivered_upto_(delivered_upto),
    last_time_(last_time_ms),
    known_chosen_(delivered_upto),
    digest_base_(delivered_upto) {
  if (opts_.catchup_ticks == 0 || opts_.catchup_max_slots == 0)
    throw std::invalid_argument("learner: a tick count or limit is zero");
}

learner_output learner_core::progressed(learner_output&& out) const {
  if (!out.writes.empty())
    tell_local(out);
  return std::move(out);
}

void learner_core::tell_local(learner_output& out) const {
  // After the slots are durable: the proposer's phase 1 and window start
  // from what we hold, and the acceptor trims its memory up to it.
  out.send.push_back(
    {opts_.id, learned_for_proposer{delivered_upto_, last_time_}});
  out.send.push_back({opts_.id, learned_for_acceptor{delivered_upto_}});
}

learner_output learner_core::announced(server_id server) {
  learner_output out;
  if (server == opts_.id)
    tell_local(out);
  return out;
}

learner_output learner_core::handle(const decide& msg) {
  learner_output out;
  if (!msg.bare) {
    choose(msg.slot, msg.val, out);
    return progressed(std::move(out));
  }
  // The value is the one our own acceptor reported for this ballot. Without
  // it (this learner restarted since, say) the slot is at least known to be
  // chosen, and catch-up fetches it.
  auto i = votes_.find(msg.slot);
  if (i != votes_.end()) {
    auto j = i->second.find(msg.bal);
    if (j != i->second.end()) {
      auto val = std::move(j->second.val);
      choose(msg.slot, val, out);
      return progressed(std::move(out));
    }
  }
  // Or the vote is still on its way (it is sent first, but a peer's vote
  // path and the leader's may race): remember the ballot, and choose when
  // the vote arrives.
  if (msg.slot > delivered_upto_ && chosen_.count(msg.slot) == 0
      && bare_.size() < opts_.buffer_max)
    bare_[msg.slot] = msg.bal;
  if (msg.slot > known_chosen_ && msg.slot > delivered_upto_)
    known_chosen_ = msg.slot;
  return out;
}

learner_output learner_core::handle(const learn& msg) {
  learner_output out;
  if (msg.slot <= delivered_upto_ || chosen_.count(msg.slot) > 0)
    return out;
  auto& per_ballot = votes_[msg.slot];
  auto i = per_ballot.find(msg.bal);
  if (i == per_ballot.end())
    i = per_ballot.emplace(msg.bal, tally{vote_set(opts_.servers.size()),
                                          msg.val})
          .first;
  else if (i->second.val != msg.val) {
    // Two values at one ballot: a proposer reused it. Count neither twice.
    if (opts_.check)
      throw std::logic_error("learner " + std::to_string(opts_.id)
                             + ": two values voted in slot "
                             + std::to_string(msg.slot) + " at one ballot");
    return out;
  }
  i->second.votes.add(msg.from);
  auto b = bare_.find(msg.slot);
  if (i->second.votes.reached()
      || (b != bare_.end() && b->second == msg.bal && msg.from == opts_.id)) {
    auto val = std::move(i->second.val);
    choose(msg.slot, val, out);
  }
  return progressed(std::move(out));
}

learner_output learner_core::handle(const catchup_reply& msg) {
  learner_output out;
  if (msg.echo != 0 && msg.echo <= now_) {
    auto i = rtt_.find(msg.from);
    if (i == rtt_.end())
      i = rtt_.emplace(msg.from, rtt_estimator{0, opts_.timeout_max_ticks})
            .first;
    i->second.sample(now_ - msg.echo);
  }
  if (msg.chosen_upto > known_chosen_)
    known_chosen_ = msg.chosen_upto;
  for (auto& d : msg.slots)
    choose(d.slot, d.val, out);
  return progressed(std::move(out));
}

learner_output learner_core::handle(const catchup_request& msg) {
  // What the decided log has from the asked slot on, then what we hold
  // above our own hole if it continues the run: a peer must not wait for
  // what only our buffer has.
  learner_output out;
  size_t n = std::min(msg.max_slots, opts_.catchup_max_slots);
  std::vector<decide> run;
  if (log_ != nullptr)
    run = log_->decided(msg.first_slot, n);
  if (run.size() < n) {
    auto more = buffered(msg.first_slot + run.size(), n - run.size());
    run.insert(run.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  // Cut the run to the byte budget, keeping at least one slot.
  uint64_t bytes = 0;
  for (size_t i = 0; i < run.size(); ++i) {
    bytes += run[i].val.payload_bytes() + 64;
    if (i > 0 && bytes > opts_.catchup_bytes_max) {
      run.resize(i);
      break;
    }
  }
  out.send.push_back({msg.from, catchup_reply{opts_.id, std::move(run),
                                              delivered_upto_, msg.sent}});
  return out;
}

std::vector<decide> learner_core::buffered(uint64_t first, size_t max) const {
  std::vector<decide> xs;
  for (auto i = chosen_.find(first); i != chosen_.end() && xs.size() < max
                                     && i->first == first + xs.size();
       ++i)
    xs.push_back(decide{i->first, i->second});
  return xs;
}

learner_output learner_core::handle(const chosen_hint& msg) {
  if (msg.chosen_upto > known_chosen_)
    known_chosen_ = msg.chosen_upto;
  if (msg.peer != 0)
    leader_hint_ = msg.peer;
  return {};
}

void learner_core::choose(uint64_t slot, const value& val,
                          learner_output& out) {
  if (slot <= delivered_upto_) {
    verify_same(slot, val);
    return;
  }
  auto i = chosen_.find(slot);
  if (i != chosen_.end()) {
    if (opts_.check && i->second != val)
      throw std::logic_error("learner " + std::to_string(opts_.id)
                             + ": slot " + std::to_string(slot)
                             + " chosen with two different values");
    return;
  }
  votes_.erase(slot);
  bare_.erase(slot);
  if (slot > known_chosen_)
    known_chosen_ = slot;
  if (slot != delivered_upto_ + 1 && chosen_.size() >= opts_.buffer_max) {
    // Full: keep the slots nearest the hole, which the leader's window
    // holds, and let the farthest go (catch-up fetches it again later).
    auto far = std::prev(chosen_.end());
    if (far->first < slot)
      return;
    chosen_.erase(far);
  }
  chosen_.emplace(slot, val);
  deliver_ready(out);
}

void learner_core::deliver_ready(learner_output& out) {
  bool progressed = false;
  for (auto i = chosen_.begin();
       i != chosen_.end() && i->first == delivered_upto_ + 1;
       i = chosen_.erase(i)) {
    ++delivered_upto_;
    last_time_ = std::max(last_time_, i->second.time_ms);
    if (opts_.check)
      digests_.push_back(digest(i->second));
    out.writes.slots.push_back(decide{i->first, std::move(i->second)});
    progressed = true;
  }
  if (progressed) {
    stall_ = 0;
    asks_ = 0;
    votes_.erase(votes_.begin(), votes_.upper_bound(delivered_upto_));
    bare_.erase(bare_.begin(), bare_.upper_bound(delivered_upto_));
  }
}

uint64_t learner_core::stall_limit() const {
  // A round trip to the peer asked last (the floor before any), doubled
  // per ask that brought nothing.
  uint64_t t = opts_.catchup_ticks;
  if (auto i = rtt_.find(asked_); i != rtt_.end() && i->second.samples() > 0)
    t = std::max<uint64_t>(t, i->second.timeout());
  t <<= std::min<uint32_t>(asks_, 4);
  return std::min<uint64_t>(std::max<uint64_t>(t, opts_.catchup_ticks),
                            std::max<uint64_t>(opts_.catchup_ticks,
                                               opts_.timeout_max_ticks));
}

learner_output learner_core::tick() {
  learner_output out;
  ++now_;
  if (delivered_upto_ >= known_chosen_) {
    stall_ = 0;
    return out;
  }
  if (++stall_ < stall_limit())
    return out;
  stall_ = 0;
  // Ask the leader first; if that does not help, walk through the peers.
  server_id peer = 0;
  if (asks_ == 0 && leader_hint_ != 0 && leader_hint_ != opts_.id) {
    peer = leader_hint_;
  } else {
    for (size_t n = 0; n < opts_.servers.size() && peer == 0; ++n) {
      auto s = opts_.servers[next_peer_++ % opts_.servers.size()];
      if (s != opts_.id)
        peer = s;
    }
  }
  ++asks_;
  asked_ = peer;
  if (peer != 0)
    out.send.push_back({peer, catchup_request{opts_.id, delivered_upto_ + 1,
                                              opts_.catchup_max_slots, now_}});
  return out;
}

void learner_core::verify_same(uint64_t slot, const value& val) const {
  if (!opts_.check || slot <= digest_base_)
    return;
  auto idx = slot - digest_base_ - 1;
  if (idx < digests_.size() && digests_[idx] != digest(val))
    throw std::logic_error("learner " + std::to_string(opts_.id) + ": slot "
                           + std::to_string(slot)
                           + " decided again with a different value");
}

void learner_core::check_transition(const snapshot& before) const {
  check_invariants();
  if (delivered_upto_ < before.delivered_upto)
    throw std::logic_error("learner " + std::to_string(opts_.id)
                           + ": delivered prefix shrank");
}

void learner_core::check_invariants() const {
  if (!chosen_.empty() && chosen_.begin()->first <= delivered_upto_)
    throw std::logic_error("learner " + std::to_string(opts_.id)
                           + ": buffered a slot already delivered");
  if (known_chosen_ < delivered_upto_)
    throw std::logic_error("learner " + std::to_string(opts_.id)
                           + ": knows less than it delivered");
  if (opts_.check && digests_.size() != delivered_upto_ - digest_base_)
    throw std::logic_error("learner " + std::to_string(opts_.id)
                           + ": delivered a slot out of order");
}

} // namespace cafchat
