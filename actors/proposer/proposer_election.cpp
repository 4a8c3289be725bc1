#include "actors/proposer/proposer_core.hpp"

#include <algorithm>
#include <random>
#include <vector>

// The proposer's leader election: the timers and the timeouts that follow
// the network, PreVote, campaigns and heartbeats (proposer_core.hpp has the
// state diagram).

namespace cafchat {

// -- leader election ---------------------------------------------------------

void proposer_core::reset_election_timer(bool backoff) {
  election_elapsed_ = 0;
  uint64_t e = election_base();
  if (!backoff) {
    election_timeout_ = std::uniform_int_distribution<uint64_t>(e, 2 * e - 1)(rng_);
    return;
  }
  // After a lost election wait a random time that grows with consecutive
  // failures, so duelling proposers fall out of step and one of them wins.
  uint64_t scale = uint64_t{1} << std::min<uint32_t>(failures_, 3);
  election_timeout_ = std::uniform_int_distribution<uint64_t>(
    1, std::min<uint64_t>(e * scale, opts_.timeout_max_ticks))(rng_);
}

// -- timeouts that follow the network ------------------------------------------

void proposer_core::sample(server_id from, uint64_t echo) {
  if (echo == 0 || echo > now_ || from == id())
    return; // no echo, or one of an earlier life's requests
  auto i = rtt_.find(from);
  if (i == rtt_.end())
    i = rtt_.emplace(from, rtt_estimator{0, opts_.timeout_max_ticks}).first;
  i->second.sample(now_ - echo);
}

uint64_t proposer_core::round_trip_timeout() const {
  // The time within which a majority answers: our own acceptor at once, and
  // the majority - 1 fastest of the others.
  std::vector<uint64_t> ts;
  for (auto& [peer, est] : rtt_)
    if (est.samples() > 0)
      ts.push_back(est.timeout());
  uint64_t t = opts_.retry_ticks;
  size_t need = quorum() - 1;
  if (need > 0 && ts.size() >= need) {
    std::nth_element(ts.begin(), ts.begin() + (need - 1), ts.end());
    t = ts[need - 1];
  }
  return std::clamp<uint64_t>(t, opts_.retry_ticks, opts_.timeout_max_ticks);
}

uint64_t proposer_core::fastest_quorum_srtt() const {
  std::vector<uint64_t> ts;
  for (auto& [peer, est] : rtt_)
    if (est.samples() > 0)
      ts.push_back(est.srtt());
  size_t need = quorum() - 1;
  if (need == 0 || ts.size() < need)
    return 0;
  std::nth_element(ts.begin(), ts.begin() + (need - 1), ts.end());
  return ts[need - 1];
}

uint64_t proposer_core::heartbeat_interval() const {
  // Often enough that followers hear a live leader every round trip or so.
  return std::clamp<uint64_t>(round_trip_timeout() / 2, opts_.heartbeat_ticks,
                              std::max<uint64_t>(opts_.heartbeat_ticks,
                                                 opts_.timeout_max_ticks / 8));
}

uint64_t proposer_core::election_base() const {
  // A follower gives the leader the period it announced plus the gaps it
  // has seen between heartbeats (mean + 4 deviations): a slow or jittery
  // network makes a follower patient, it does not make it depose a leader.
  uint64_t e = opts_.election_ticks;
  if (leader_interval_ > 0) {
    uint64_t wait = gaps_.samples() >= 2 ? leader_interval_ + gaps_.timeout()
                                         : 3 * leader_interval_;
    e = std::max(e, wait);
  }
  return std::min<uint64_t>(e, opts_.timeout_max_ticks);
}

uint64_t proposer_core::check_period() const {
  // A leader that no majority answered within this cannot make progress.
  return std::clamp<uint64_t>(2 * (heartbeat_interval() + round_trip_timeout()),
                              opts_.election_ticks, opts_.timeout_max_ticks);
}

void proposer_core::heard_heartbeat(const heartbeat& msg) {
  if (gaps_of_ != msg.from) {
    gaps_ = rtt_estimator{0, opts_.timeout_max_ticks};
    gaps_of_ = msg.from;
  } else {
    gaps_.sample(now_ - last_heartbeat_);
  }
  last_heartbeat_ = now_;
  leader_interval_ = msg.interval;
}

void proposer_core::see(const ballot& b) {
  if (b > max_seen_)
    max_seen_ = b;
}

proposer_output proposer_core::tick() {
  proposer_output out;
  ++now_;
  switch (role_) {
    case proposer_role::follower:
      if (++election_elapsed_ >= election_timeout_) {
        if (leader_ != 0)
          out.notes.push_back({"leader_lost", 0, max_seen_, leader_});
        leader_ = 0;
        start_campaign(out);
      }
      break;
    case proposer_role::precandidate:
    case proposer_role::candidate:
      if (++phase_elapsed_ >= phase_timeout_)
        step_down(out, true, role_ == proposer_role::candidate
                               ? "phase1_timeout"
                               : "prevote_timeout");
      break;
    case proposer_role::leader: {
      auto interval = heartbeat_interval();
      if (++heartbeat_elapsed_ >= interval) {
        heartbeat_elapsed_ = 0;
        out.send.push_back(
          {all_servers, heartbeat{bal_, id(), chosen_upto_, now_, interval}});
      }
      auto rto = round_trip_timeout();
      for (auto& [slot, f] : in_flight_) {
        auto wait = std::min<uint64_t>(rto << std::min<uint32_t>(f.resends, 10),
                                       opts_.timeout_max_ticks);
        if (++f.elapsed >= wait) {
          // Lost accept or accepted: the network never promises delivery.
          f.elapsed = 0;
          ++f.resends;
          out.send.push_back({all_servers, accept{bal_, slot, f.val, now_}});
        }
      }
      if (++hole_elapsed_ >= rto) {
        hole_elapsed_ = 0;
        fill_holes(out);
      }
      if (++check_elapsed_ >= check_period()) {
        // CheckQuorum: a leader that no majority answered within an election
        // timeout cannot make progress; stepping down lets the others elect.
        check_elapsed_ = 0;
        heard_.insert(id());
        bool ok = heard_.size() >= quorum();
        heard_.clear();
        if (!ok)
          step_down(out, true, "check_quorum");
      }
      break;
    }
  }
  return out;
}

proposer_output proposer_core::campaign() {
  proposer_output out;
  start_campaign(out);
  return out;
}

void proposer_core::start_campaign(proposer_output& out) {
  if (role_ == proposer_role::leader)
    return;
  leader_ = 0;
  if (!joined_) {
    // Our acceptor lost its storage and has not rejoined: we cannot know
    // which ballots this server used before, so we use none.
    reset_election_timer(false);
    return;
  }
  if (!opts_.prevote) {
    start_phase1(out);
    return;
  }
  role_ = proposer_role::precandidate;
  phase_elapsed_ = 0;
  // Wait for answers a round trip, doubled per failed election: on a
  // network slower than anything measured yet, a later attempt waits long
  // enough, and the late answers it gets meanwhile teach the estimate.
  phase_timeout_ = backoff(round_trip_timeout(), failures_,
                           opts_.timeout_max_ticks, rng_);
  prevote_round_ = max_seen_.round + 1;
  prevotes_ = vote_set(opts_.servers.size());
  prevotes_.add(id());
  if (prevotes_.reached()) {
    start_phase1(out);
    return;
  }
  for (auto s : opts_.servers)
    if (s != id())
      out.send.push_back(
        {s, prevote_request{id(), prevote_round_, chosen_upto_, now_}});
}

proposer_output proposer_core::handle(const prevote_request& msg) {
  proposer_output out;
  // Grant only if no leader has been heard from for a full (minimum)
  // election timeout: a healthy leader's followers refuse, so a partitioned
  // server cannot disrupt them when it comes back.
  bool leader_alive = role_ == proposer_role::leader
                      || (leader_ != 0 && election_elapsed_ < election_base());
  bool granted = !leader_alive;
  out.send.push_back(
    {msg.from, prevote_reply{id(), msg.round, granted, msg.sent}});
  return out;
}

proposer_output proposer_core::handle(const prevote_reply& msg) {
  proposer_output out;
  sample(msg.from, msg.echo);
  if (role_ != proposer_role::precandidate || msg.round != prevote_round_
      || !msg.granted)
    return out;
  prevotes_.add(msg.from);
  if (prevotes_.reached())
    start_phase1(out);
  return out;
}

proposer_output proposer_core::handle(const heartbeat& msg) {
  auto out = follow(msg);
  // Whoever sent it, at whatever ballot: slots up to its chosen_upto are
  // chosen, and the sender has them. Our learner catches up if it lags.
  out.send.push_back({id(), chosen_hint{msg.chosen_upto, msg.from}});
  return out;
}

proposer_output proposer_core::follow(const heartbeat& msg) {
  proposer_output out;
  if (msg.from == id())
    return out;
  if (msg.bal < max_seen_) {
    // A stale leader: tell it about the higher ballot so it steps down.
    out.send.push_back(
      {msg.from, heartbeat_reply{max_seen_, id(), chosen_upto_, msg.sent}});
    return out;
  }
  see(msg.bal);
  heard_heartbeat(msg);
  if (role_ != proposer_role::follower)
    step_down(out, false, "higher_leader");
  if (leader_ != msg.from)
    out.notes.push_back({"leader_known", 0, msg.bal, msg.from});
  leader_ = msg.from;
  failures_ = 0;
  reset_election_timer(false);
  // msg.chosen_upto is not taken as known-chosen here: phase 1 must start
  // after what the local learner holds, or a slot chosen but learned only by
  // a learner that died could never be decided (and delivered) again.
  flush_pending(out);
  out.send.push_back(
    {msg.from, heartbeat_reply{max_seen_, id(), chosen_upto_, msg.sent}});
  return out;
}

proposer_output proposer_core::handle(const heartbeat_reply& msg) {
  proposer_output out;
  see(msg.bal);
  sample(msg.from, msg.echo);
  if (role_ == proposer_role::leader) {
    heard_.insert(msg.from);
    if (msg.bal > bal_)
      step_down(out, true, "higher_ballot");
  }
  return out;
}
} // namespace cafchat
