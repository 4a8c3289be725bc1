#include "actors/proposer/proposer_core.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

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
  // a slot on it).
  cmds.erase(std::remove_if(cmds.begin(), cmds.end(),
                            [&](const command& c) {
                              return !queued_.insert({c.client, c.seq}).second;
                            }),
             cmds.end());
  size_t room = opts_.pending_max > pending_.size()
                  ? opts_.pending_max - pending_.size()
                  : 0;
  size_t take = std::min(room, cmds.size());
  if (take < cmds.size()) {
    dropped_ += cmds.size() - take;
    out.notes.push_back({"queue_full", 0, bal_, cmds.size() - take});
    for (auto i = cmds.begin() + take; i != cmds.end(); ++i)
      queued_.erase({i->client, i->seq});
  }
  if (front)
    pending_.insert(pending_.begin(), cmds.begin(), cmds.begin() + take);
  else
    pending_.insert(pending_.end(), cmds.begin(), cmds.begin() + take);
}

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
      queued_.erase({c.client, c.seq});
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
