#include "actors/acceptor/acceptor_core.hpp"

#include <stdexcept>
#include <string>

namespace cafchat {

namespace {

std::string show(const ballot& b) {
  return "(" + std::to_string(b.round) + "," + std::to_string(b.node) + ")";
}

} // namespace

void acceptor_writes::merge(acceptor_writes&& other) {
  if (other.promised)
    promised = other.promised;
  for (auto& x : other.accepted)
    accepted.push_back(std::move(x));
}

const char* to_string(acceptor_mode m) {
  switch (m) {
    case acceptor_mode::voting:
      return "voting";
    case acceptor_mode::probing:
      return "probing";
    case acceptor_mode::recovering:
      return "recovering";
  }
  return "?";
}

acceptor_core::acceptor_core(server_id id, acceptor_state initial,
                             size_t cluster_size, uint64_t incarnation,
                             bool fresh_store)
  : id_(id),
    state_(std::move(initial)),
    cluster_size_(cluster_size),
    incarnation_(incarnation) {
  bool empty = state_.promised.is_zero() && state_.accepted.empty();
  if (fresh_store && empty && cluster_size_ > 1)
    mode_ = acceptor_mode::probing;
  check_invariants();
}

// -- lost state --------------------------------------------------------------

state_reply acceptor_core::handle(const state_query& msg) const {
  bool has = !state_.promised.is_zero() || !state_.accepted.empty();
  auto who = std::make_pair(msg.from, msg.incarnation);
  bool vouched = std::find(vouch_for_.begin(), vouch_for_.end(), who)
                 != vouch_for_.end();
  return state_reply{id_, incarnation_, state_.promised, has, vouched};
}

void acceptor_core::start_voting_as_new() {
  mode_ = acceptor_mode::voting;
  vouch_for_ = empty_peers_;
}

void acceptor_core::handle(const state_reply& msg) {
  if (mode_ == acceptor_mode::voting || msg.from == id_)
    return;
  if (msg.promised > seen_)
    seen_ = msg.promised;
  if (msg.vouched) {
    // This incarnation has been silent since the peer counted it empty.
    mode_ = acceptor_mode::voting;
    return;
  }
  if (mode_ != acceptor_mode::probing)
    return;
  if (msg.has_state) {
    // The cluster has a history this acceptor may have voted in.
    mode_ = acceptor_mode::recovering;
    return;
  }
  auto who = std::make_pair(msg.from, msg.incarnation);
  if (std::find(empty_peers_.begin(), empty_peers_.end(), who)
      == empty_peers_.end())
    empty_peers_.push_back(who);
  // With history, at least f of the 2f others hold state: f+1 empty answers
  // rule that out, so this is a brand-new cluster.
  size_t f = (cluster_size_ - 1) / 2;
  if (empty_peers_.size() >= f + 1)
    start_voting_as_new();
}

void acceptor_core::probe_tick(uint32_t probe_ticks) {
  if (mode_ == acceptor_mode::probing && ++probe_elapsed_ >= probe_ticks)
    start_voting_as_new();
}

acceptor_writes acceptor_core::learned(uint64_t upto) {
  acceptor_writes w;
  if (upto > trimmed_upto_) {
    trimmed_upto_ = upto;
    state_.accepted.erase(state_.accepted.begin(),
                          state_.accepted.upper_bound(upto));
  }
  if (mode_ != acceptor_mode::recovering || first_slot_ == 0
      || upto < first_slot_)
    return w;
  // An instance that began after the restart is complete: any ballot this
  // acceptor promised before it lost its state is no longer live.
  mode_ = acceptor_mode::voting;
  if (seen_ > state_.promised) {
    state_.promised = seen_;
    w.promised = seen_;
  }
  return w;
}

// -- phase 1 -----------------------------------------------------------------

acceptor_output acceptor_core::handle(const prepare& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::voting) {
    if (msg.bal > seen_)
      seen_ = msg.bal;
    return out; // silent: no promise, no nack
  }
  if (msg.bal < state_.promised) {
    out.reply = nack{msg.bal, state_.promised, 0, id_};
    return out;
  }
  if (msg.bal > state_.promised) {
    state_.promised = msg.bal;
    out.writes.promised = msg.bal;
  }
  promise p{msg.bal, id_, msg.first_slot, {}};
  for (auto i = state_.accepted.lower_bound(msg.first_slot);
       i != state_.accepted.end(); ++i)
    p.accepted.push_back(i->second);
  if (msg.first_slot <= trimmed_upto_)
    out.from_storage = {msg.first_slot, trimmed_upto_};
  out.reply = std::move(p);
  return out;
}

acceptor_output acceptor_core::handle(const accept& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::voting) {
    if (msg.bal > seen_)
      seen_ = msg.bal;
    if (mode_ == acceptor_mode::recovering && first_slot_ == 0)
      first_slot_ = msg.slot;
    return out;
  }
  if (msg.bal < state_.promised && !broken_) {
    out.reply = nack{msg.bal, state_.promised, msg.slot, id_};
    return out;
  }
  if (msg.bal > state_.promised) {
    state_.promised = msg.bal;
    out.writes.promised = msg.bal;
  }
  auto& slot = state_.accepted[msg.slot];
  if (broken_ && slot.slot == msg.slot && slot.bal > msg.bal)
    slot.bal = ballot{}; // let the broken accept overwrite a higher one
  // A retransmitted accept at the same ballot carries the same value (one
  // proposer per ballot, one value per slot and ballot): nothing to rewrite.
  if (slot.slot != msg.slot || slot.bal != msg.bal) {
    slot = accepted_slot{msg.slot, msg.bal, msg.val};
    out.writes.accepted.push_back(slot);
  }
  out.reply = accepted{msg.bal, msg.slot, id_};
  return out;
}

const accepted_slot* acceptor_core::find(uint64_t slot) const {
  auto i = state_.accepted.find(slot);
  return i == state_.accepted.end() ? nullptr : &i->second;
}

void acceptor_core::check_invariants() const {
  for (auto& [slot, a] : state_.accepted) {
    if (a.slot != slot)
      throw std::logic_error("acceptor " + std::to_string(id_) + ": slot "
                             + std::to_string(slot) + " stored under "
                             + std::to_string(a.slot));
    if (a.bal > state_.promised)
      throw std::logic_error("acceptor " + std::to_string(id_)
                             + ": accepted slot " + std::to_string(slot)
                             + " at " + show(a.bal) + " above promise "
                             + show(state_.promised));
  }
}

void acceptor_core::check_transition(const acceptor_state& before) const {
  check_invariants();
  if (state_.promised < before.promised)
    throw std::logic_error("acceptor " + std::to_string(id_)
                           + ": promise decreased from "
                           + show(before.promised) + " to "
                           + show(state_.promised));
  for (auto& [slot, old] : before.accepted) {
    if (slot <= trimmed_upto_)
      continue; // left memory for storage (learned)
    auto now = find(slot);
    if (now == nullptr)
      throw std::logic_error("acceptor " + std::to_string(id_)
                             + ": forgot accepted slot "
                             + std::to_string(slot));
    if (now->bal < old.bal)
      throw std::logic_error("acceptor " + std::to_string(id_) + ": slot "
                             + std::to_string(slot) + " moved from "
                             + show(old.bal) + " down to " + show(now->bal));
    if (now->bal == old.bal && now->val != old.val)
      throw std::logic_error("acceptor " + std::to_string(id_) + ": slot "
                             + std::to_string(slot)
                             + " changed value at the same ballot "
                             + show(old.bal));
  }
}

} // namespace cafchat
