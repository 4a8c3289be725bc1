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

acceptor_core::acceptor_core(server_id id, acceptor_state initial)
  : id_(id), state_(std::move(initial)) {
  check_invariants();
}

acceptor_output acceptor_core::handle(const prepare& msg) {
  acceptor_output out;
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
  out.reply = std::move(p);
  return out;
}

acceptor_output acceptor_core::handle(const accept& msg) {
  acceptor_output out;
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
