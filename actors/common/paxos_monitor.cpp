#include "actors/common/paxos_monitor.hpp"

#include "actors/common/quorum.hpp"

namespace cafchat {

namespace {

std::string show(const ballot& b) {
  return "(" + std::to_string(b.round) + "," + std::to_string(b.node) + ")";
}

} // namespace

void paxos_monitor::fail(std::string what) {
  if (violation_.empty())
    violation_ = std::move(what);
}

bool paxos_monitor::same_value(slot_ballot& sb, const value& v,
                               const std::string& who, uint64_t slot,
                               const ballot& b) {
  if (!sb.seen) {
    sb.seen = true;
    sb.val = v;
    return true;
  }
  if (sb.val == v)
    return true;
  fail("one value per ballot: " + who + " a second value in slot "
       + std::to_string(slot) + " at " + show(b));
  return false;
}

void paxos_monitor::campaigned(server_id p, uint64_t epoch, const ballot& b) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!campaigns_.insert({epoch, b}).second)
    fail("a ballot is used once: proposer " + std::to_string(p)
         + " ran phase 1 at " + show(b) + " again");
}

void paxos_monitor::proposed(server_id p, uint64_t slot, const ballot& b,
                             const value& v) {
  std::lock_guard<std::mutex> guard{mtx_};
  same_value(accepted_[{slot, b}], v, "proposer " + std::to_string(p)
                                        + " proposed", slot, b);
}

void paxos_monitor::promised(server_id a, uint64_t epoch, const ballot& b) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& p = promises_[{a, epoch}];
  if (b > p)
    p = b;
}

void paxos_monitor::accepted(server_id a, uint64_t epoch, uint64_t slot,
                             const ballot& b, const value& v) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto who = "acceptor " + std::to_string(a) + " (epoch "
             + std::to_string(epoch) + ")";
  auto p = promises_.find({a, epoch});
  if (p != promises_.end() && b < p->second)
    fail("promise broken: " + who + " accepted slot " + std::to_string(slot)
         + " at " + show(b) + " after promising " + show(p->second));
  auto& sb = accepted_[{slot, b}];
  if (!same_value(sb, v, who + " accepted", slot, b))
    return;
  sb.by.insert(a);
  if (sb.by.size() < majority(acceptors_))
    return;
  auto c = chosen_.find(slot);
  if (c == chosen_.end()) {
    chosen_.emplace(slot, std::make_pair(b, v));
  } else if (c->second.second != v) {
    fail("one chosen value per slot: slot " + std::to_string(slot)
         + " was chosen at " + show(c->second.first) + " and, with another "
         + "value, at " + show(b));
  }
}

std::string paxos_monitor::violation() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return violation_;
}

size_t paxos_monitor::chosen_slots() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return chosen_.size();
}

} // namespace cafchat
