#include "actors/acceptor/acceptor_core.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "actors/common/quorum.hpp"

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
  if (other.meta)
    meta = std::move(other.meta);
}

const char* to_string(acceptor_mode m) {
  switch (m) {
    case acceptor_mode::voting:
      return "voting";
    case acceptor_mode::rejoining:
      return "rejoining";
  }
  return "?";
}

void acceptor_options::validate() const {
  if (id == 0)
    throw std::invalid_argument("acceptor: id is 0");
  if (std::find(servers.begin(), servers.end(), id) == servers.end())
    throw std::invalid_argument("acceptor: its own id is not among the servers");
  if (probe_ticks == 0)
    throw std::invalid_argument("acceptor: probe_ticks is 0");
}

acceptor_core::acceptor_core(acceptor_options opts, acceptor_state initial,
                             acceptor_log* log)
  : opts_(std::move(opts)), state_(std::move(initial)), log_(log) {
  opts_.validate();
  if (!state_.meta.voting) {
    bool empty = state_.promised.is_zero() && state_.accepted.empty();
    if (opts_.founder && empty) {
      // A founding member of a new cluster: it has voted nowhere yet.
      state_.meta.voting = true;
      state_.meta.epoch = 0;
      first_start_ = true;
    } else if (opts_.servers.size() == 1) {
      // Alone, there is nobody to rejoin and nobody to contradict.
      state_.meta.voting = true;
      first_start_ = true;
    } else {
      mode_ = acceptor_mode::rejoining;
    }
  }
  check_invariants();
}

acceptor_output acceptor_core::start() {
  acceptor_output out;
  if (first_start_) {
    first_start_ = false;
    out.writes.meta = state_.meta;
    out.notes.push_back({"acceptor_mode", 0, state_.promised, 0,
                         "a founding member of a new cluster"});
  } else if (mode_ == acceptor_mode::rejoining) {
    if (opts_.break_rejoin_rule) {
      // TEST ONLY: vote with whatever survived, as if nothing was lost.
      mode_ = acceptor_mode::voting;
      state_.meta.voting = true;
      out.writes.meta = state_.meta;
      tell_joined(out);
      return out;
    }
    out.notes.push_back({"acceptor_mode", 0, state_.promised, 0,
                         "storage is new: rejoining before it votes"});
    probe(out);
  }
  return out;
}

acceptor_output acceptor_core::announced(server_id server) {
  acceptor_output out;
  if (server == id() && mode_ == acceptor_mode::voting)
    tell_joined(out);
  return out;
}

void acceptor_core::tell_joined(acceptor_output& out) {
  out.send.push_back({id(), joined{state_.promised, state_.meta.epoch}});
}

void acceptor_core::catch_up(acceptor_output& out, uint64_t upto,
                             server_id from) {
  // Our learner fetches what it lacks, from this peer first.
  out.send.push_back({id(), chosen_hint{upto, from}});
}

acceptor_output acceptor_core::tick() {
  acceptor_output out;
  if (mode_ != acceptor_mode::rejoining)
    return out;
  // Answers count across rounds, so a slow network needs no long waits:
  // back off a little (16 times at most), to spare the peers.
  auto period = std::min<uint64_t>(
    uint64_t{opts_.probe_ticks} << std::min<uint32_t>(rejoin_.rounds, 4),
    std::max(opts_.probe_ticks, opts_.probe_max_ticks));
  if (++rejoin_.elapsed < period)
    return out;
  rejoin_.elapsed = 0;
  ++rejoin_.rounds;
  if (rejoin_.at == rejoin::phase::probe)
    probe(out);
  else
    send_rejoin(out);
  return out;
}

// -- phase 1 -----------------------------------------------------------------

acceptor_output acceptor_core::handle(const prepare& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::voting)
    return out; // silent: no promise, no nack
  if (msg.bal < state_.promised) {
    out.send.push_back(
      {msg.bal.node, nack{msg.bal, state_.promised, 0, id(), msg.sent}});
    return out;
  }
  if (msg.bal > state_.promised) {
    state_.promised = msg.bal;
    out.writes.promised = msg.bal;
  }
  promise p{msg.bal,           id(),          msg.first_slot,
            report(msg.first_slot), state_.meta.epoch, epochs_list(),
            msg.sent};
  out.send.push_back({msg.bal.node, std::move(p)});
  return out;
}

std::vector<accepted_slot> acceptor_core::report(uint64_t first_slot) {
  // Slots below the memory window come from storage (memory holds the
  // rest). Below the recovered floor, what the local learner knows to be
  // chosen is reported as such: this storage lost what it accepted there.
  std::map<uint64_t, accepted_slot> merged;
  if (log_ != nullptr && first_slot <= trimmed_upto_) {
    for (auto& a : log_->accepted_range(first_slot,
                                        trimmed_upto_ - first_slot + 1))
      if (a.slot <= trimmed_upto_)
        merged[a.slot] = std::move(a);
  }
  for (auto i = state_.accepted.lower_bound(first_slot);
       i != state_.accepted.end(); ++i)
    merged[i->first] = i->second;
  auto floor = state_.meta.recovered_floor;
  if (log_ != nullptr && first_slot <= floor) {
    for (auto& d : log_->chosen_range(first_slot, floor - first_slot + 1))
      if (d.slot <= floor)
        merged[d.slot] = accepted_slot{d.slot, chosen_ballot(), std::move(d.val)};
  }
  std::vector<accepted_slot> xs;
  xs.reserve(merged.size());
  for (auto& [slot, a] : merged)
    xs.push_back(std::move(a));
  return xs;
}

std::vector<std::pair<server_id, uint64_t>> acceptor_core::epochs_list() const {
  return {state_.meta.epochs.begin(), state_.meta.epochs.end()};
}

// -- phase 2 -----------------------------------------------------------------

acceptor_output acceptor_core::handle(const accept& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::voting)
    return out;
  if (msg.bal < state_.promised && !opts_.break_accept_rule) {
    out.send.push_back(
      {msg.bal.node, nack{msg.bal, state_.promised, msg.slot, id(), msg.sent}});
    return out;
  }
  auto existing = state_.accepted.find(msg.slot);
  if (existing != state_.accepted.end() && existing->second.bal == msg.bal
      && existing->second.val != msg.val) {
    // One ballot, one value per slot: a proposer that sends two has reused
    // a ballot (lost its ballot counter, say). Refuse, and say so.
    out.notes.push_back({"protocol_violation", msg.slot, msg.bal, 0,
                         "a second value for an accepted slot and ballot"});
    return out;
  }
  if (msg.bal > state_.promised) {
    state_.promised = msg.bal;
    out.writes.promised = msg.bal;
  }
  auto& slot = state_.accepted[msg.slot];
  if (opts_.break_accept_rule && slot.slot == msg.slot && slot.bal > msg.bal)
    slot.bal = ballot{}; // let the broken accept overwrite a higher one
  // A retransmitted accept at the same ballot carries the same value:
  // nothing to rewrite.
  if (slot.slot != msg.slot || slot.bal != msg.bal) {
    slot = accepted_slot{msg.slot, msg.bal, msg.val};
    out.writes.accepted.push_back(slot);
  }
  vote(out, msg);
  out.send.push_back(
    {msg.bal.node, accepted{msg.bal, msg.slot, id(), msg.sent}});
  return out;
}

void acceptor_core::vote(acceptor_output& out, const accept& msg) {
  // Tell the learners what we accepted: our own (which then needs only a
  // bare decide), or with learn = votes all of them. The vote goes out
  // before the accepted reply: our learner is local, so it holds the vote
  // before the leader can have counted this acceptance and decided. An
  // accept from our own proposer needs no vote to our own learner: it leads
  // at this ballot, and its decide brings our learner the value in full.
  if (opts_.learn_votes)
    out.send.push_back({all_servers, learn{msg.bal, msg.slot, id(), msg.val}});
  else if (msg.bal.node != id())
    out.send.push_back({id(), learn{msg.bal, msg.slot, id(), msg.val}});
}

// -- lost storage: answering a rejoining peer ----------------------------------

acceptor_output acceptor_core::handle(const state_query& msg) {
  acceptor_output out;
  if (msg.from == id())
    return out;
  auto i = state_.meta.epochs.find(msg.from);
  state_reply r{id(),
                msg.incarnation,
                state_.promised,
                mode_ == acceptor_mode::voting,
                i == state_.meta.epochs.end() ? 0 : i->second,
                learned_upto_,
                state_.meta.recovered_floor};
  out.send.push_back({msg.from, r});
  return out;
}

acceptor_output acceptor_core::handle(const rejoin_prepare& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::voting || msg.from == id())
    return out; // a rejoining acceptor has nothing to vouch for
  auto i = state_.meta.epochs.find(msg.from);
  uint64_t known = i == state_.meta.epochs.end() ? 0 : i->second;
  rejoin_reply r;
  r.from = id();
  r.bal = msg.bal;
  r.epoch = msg.epoch;
  r.promised = state_.promised;
  r.known_epoch = known;
  if (msg.first_slot <= state_.meta.recovered_floor) {
    // Slots up to our floor we only know as chosen, from our learner: the
    // asker must learn them itself first.
    r.learn_upto = state_.meta.recovered_floor;
  } else if (msg.epoch >= known && msg.bal >= state_.promised) {
    r.ok = true;
    if (msg.bal > state_.promised) {
      state_.promised = msg.bal;
      out.writes.promised = msg.bal;
      r.promised = msg.bal;
    }
    if (msg.epoch > known) {
      // From now on our promises say that the asker's storage is at this
      // epoch, so no proposer counts a promise of its lost storage.
      state_.meta.epochs[msg.from] = msg.epoch;
      out.writes.meta = state_.meta;
    }
    r.accepted = report(msg.first_slot);
    r.epochs = epochs_list();
  }
  out.send.push_back({msg.from, std::move(r)});
  return out;
}

// -- lost storage: rejoining ----------------------------------------------------

size_t acceptor_core::others_needed() const {
  // A majority of the whole cluster, not counting this acceptor.
  return majority(opts_.servers.size());
}

void acceptor_core::probe(acceptor_output& out) {
  // Answers stay until a newer one from the same peer replaces them: on a
  // slow network they come in over several rounds.
  for (auto s : opts_.servers)
    if (s != id())
      out.send.push_back({s, state_query{id(), opts_.incarnation}});
}

acceptor_output acceptor_core::handle(const state_reply& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::rejoining || rejoin_.at != rejoin::phase::probe
      || msg.from == id() || msg.incarnation != opts_.incarnation)
    return out;
  if (!msg.voting) {
    rejoin_.replies.erase(msg.from); // it cannot vouch for anything either
    return out;
  }
  rejoin_.replies[msg.from] = msg;
  try_prepare(out);
  return out;
}

void acceptor_core::try_prepare(acceptor_output& out) {
  if (rejoin_.replies.size() < others_needed())
    return;
  uint64_t target = 0, floor = 0;
  server_id best = 0;
  for (auto& [from, r] : rejoin_.replies) {
    rejoin_.max_round = std::max(rejoin_.max_round, r.promised.round);
    rejoin_.max_epoch = std::max(rejoin_.max_epoch, r.known_epoch);
    floor = std::max(floor, r.recovered_floor);
    if (best == 0 || r.delivered_upto > target) {
      target = r.delivered_upto;
      best = from;
    }
  }
  rejoin_.target = std::max(floor, target > opts_.rejoin_lag_max
                                     ? target - opts_.rejoin_lag_max
                                     : 0);
  if (learned_upto_ < rejoin_.target) {
    catch_up(out, target, best);
    return;
  }
  rejoin_.at = rejoin::phase::prepare;
  rejoin_.rounds = 0;
  rejoin_.first_slot = learned_upto_ + 1;
  rejoin_.epoch = rejoin_.max_epoch + 1;
  // Node 0 names no proposer: no value is ever proposed at this ballot,
  // and no earlier incarnation of our own proposer can have used it (its
  // rounds died with our storage).
  rejoin_.bal = ballot{rejoin_.max_round + 1, 0};
  rejoin_.oks.clear();
  rejoin_.elapsed = 0;
  out.notes.push_back({"rejoin_prepare", rejoin_.first_slot, rejoin_.bal,
                       rejoin_.epoch, nullptr});
  send_rejoin(out);
}

void acceptor_core::send_rejoin(acceptor_output& out) {
  for (auto s : opts_.servers)
    if (s != id() && rejoin_.oks.count(s) == 0)
      out.send.push_back({s, rejoin_prepare{id(), rejoin_.epoch, rejoin_.bal,
                                            rejoin_.first_slot}});
}

acceptor_output acceptor_core::handle(const rejoin_reply& msg) {
  acceptor_output out;
  if (mode_ != acceptor_mode::rejoining || rejoin_.at != rejoin::phase::prepare
      || msg.bal != rejoin_.bal || msg.epoch != rejoin_.epoch
      || msg.from == id())
    return out;
  if (!msg.ok) {
    // Too low a ballot or epoch, or our learner must get further first:
    // start over from the probe with what this reply taught us.
    rejoin_.max_round = std::max(rejoin_.max_round, msg.promised.round);
    rejoin_.max_epoch = std::max(rejoin_.max_epoch, msg.known_epoch);
    rejoin_.at = rejoin::phase::probe;
    rejoin_.elapsed = 0;
    rejoin_.rounds = 0;
    if (msg.learn_upto > learned_upto_)
      catch_up(out, msg.learn_upto, msg.from);
    probe(out);
    return out;
  }
  rejoin_.oks[msg.from] = msg;
  if (rejoin_.oks.size() >= others_needed())
    finish_rejoin(out);
  return out;
}

void acceptor_core::finish_rejoin(acceptor_output& out) {
  // A majority of the cluster, all voting and none of them us, promised our
  // ballot and reported everything they accepted from first_slot on. Adopt
  // per slot the highest-ballot value: a value chosen with our lost storage
  // among its acceptors was also accepted by one of them.
  std::map<uint64_t, accepted_slot> adopted;
  for (auto& [from, r] : rejoin_.oks) {
    for (auto& a : r.accepted) {
      if (a.slot < rejoin_.first_slot || a.bal == chosen_ballot())
        continue;
      auto i = adopted.find(a.slot);
      if (i == adopted.end() || a.bal > i->second.bal)
        adopted[a.slot] = a;
    }
    for (auto& [server, epoch] : r.epochs)
      if (server != id()) {
        auto& e = state_.meta.epochs[server];
        e = std::max(e, epoch);
      }
  }
  if (rejoin_.bal > state_.promised) {
    state_.promised = rejoin_.bal;
    out.writes.promised = rejoin_.bal;
  }
  for (auto& [slot, a] : adopted) {
    auto i = state_.accepted.find(slot);
    if (i == state_.accepted.end() || a.bal > i->second.bal) {
      state_.accepted[slot] = a;
      out.writes.accepted.push_back(a);
    }
  }
  state_.meta.voting = true;
  state_.meta.epoch = rejoin_.epoch;
  state_.meta.recovered_floor = rejoin_.first_slot - 1;
  out.writes.meta = state_.meta;
  mode_ = acceptor_mode::voting;
  out.notes.push_back({"acceptor_mode", rejoin_.first_slot, rejoin_.bal,
                       rejoin_.epoch,
                       "rejoined: a majority of voting peers promised its "
                       "ballot and reported their slots"});
  rejoin_ = rejoin{};
  // Once the writes above are durable, our proposer may campaign.
  tell_joined(out);
}

acceptor_output acceptor_core::handle(const learned_for_acceptor& msg) {
  acceptor_output out;
  auto upto = msg.upto;
  learned_upto_ = std::max(learned_upto_, upto);
  if (upto > trimmed_upto_ && log_ != nullptr) {
    trimmed_upto_ = upto;
    state_.accepted.erase(state_.accepted.begin(),
                          state_.accepted.upper_bound(upto));
  }
  if (mode_ == acceptor_mode::rejoining && rejoin_.at == rejoin::phase::probe
      && rejoin_.target > 0 && learned_upto_ >= rejoin_.target)
    try_prepare(out);
  return out;
}

std::string acceptor_core::waiting_for() const {
  if (mode_ == acceptor_mode::voting)
    return {};
  auto need = std::to_string(others_needed());
  if (rejoin_.at == rejoin::phase::probe) {
    if (rejoin_.replies.size() < others_needed())
      return "storage is new: waiting for " + need
             + " voting peers to answer (answered: "
             + std::to_string(rejoin_.replies.size()) + ")";
    return "storage is new: catching up to slot "
           + std::to_string(rejoin_.target) + " (at "
           + std::to_string(learned_upto_) + ") before rejoining";
  }
  std::string ids;
  for (auto& [from, r] : rejoin_.oks)
    ids += (ids.empty() ? "" : ", ") + std::to_string(from);
  return "rejoining at ballot " + show(rejoin_.bal) + ": " + need
         + " voting peers must promise (promised: "
         + (ids.empty() ? std::string{"none"} : ids) + ")";
}

const accepted_slot* acceptor_core::find(uint64_t slot) const {
  auto i = state_.accepted.find(slot);
  return i == state_.accepted.end() ? nullptr : &i->second;
}

void acceptor_core::check_invariants() const {
  for (auto& [slot, a] : state_.accepted) {
    if (a.slot != slot)
      throw std::logic_error("acceptor " + std::to_string(id()) + ": slot "
                             + std::to_string(slot) + " stored under "
                             + std::to_string(a.slot));
    if (a.bal > state_.promised)
      throw std::logic_error("acceptor " + std::to_string(id())
                             + ": accepted slot " + std::to_string(slot)
                             + " at " + show(a.bal) + " above promise "
                             + show(state_.promised));
  }
  if (mode_ == acceptor_mode::voting && !state_.meta.voting)
    throw std::logic_error("acceptor " + std::to_string(id())
                           + ": votes without having joined");
}

void acceptor_core::check_transition(const snapshot& before) const {
  check_invariants();
  if (state_.promised < before.promised)
    throw std::logic_error("acceptor " + std::to_string(id())
                           + ": promise decreased from "
                           + show(before.promised) + " to "
                           + show(state_.promised));
  for (auto& [slot, old] : before.accepted) {
    if (slot <= trimmed_upto_)
      continue; // left memory for storage (learned)
    auto now = find(slot);
    if (now == nullptr)
      throw std::logic_error("acceptor " + std::to_string(id())
                             + ": forgot accepted slot "
                             + std::to_string(slot));
    if (now->bal < old.bal)
      throw std::logic_error("acceptor " + std::to_string(id()) + ": slot "
                             + std::to_string(slot) + " moved from "
                             + show(old.bal) + " down to " + show(now->bal));
    if (now->bal == old.bal && now->val != old.val)
      throw std::logic_error("acceptor " + std::to_string(id()) + ": slot "
                             + std::to_string(slot)
                             + " changed value at the same ballot "
                             + show(old.bal));
  }
  for (auto& [server, epoch] : before.meta.epochs) {
    auto i = state_.meta.epochs.find(server);
    if (i == state_.meta.epochs.end() || i->second < epoch)
      throw std::logic_error("acceptor " + std::to_string(id())
                             + ": forgot the epoch of server "
                             + std::to_string(server));
  }
}

} // namespace cafchat
