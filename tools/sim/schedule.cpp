#include "tools/sim/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace cafchat::test {

// -- the faults ---------------------------------------------------------------

const char* name_of(fault_kind k) {
  switch (k) {
    case fault_kind::say:
      return "say";
    case fault_kind::kill:
      return "kill";
    case fault_kind::kill_leader:
      return "kill_leader";
    case fault_kind::restart:
      return "restart";
    case fault_kind::isolate:
      return "isolate";
    case fault_kind::split:
      return "split";
    case fault_kind::heal:
      return "heal";
    case fault_kind::skip_slot:
      return "skip_slot";
    case fault_kind::isolate_leader:
      return "isolate_leader";
    case fault_kind::wipe:
      return "wipe";
    case fault_kind::power_cut:
      return "power_cut";
    case fault_kind::bounce_leader:
      return "bounce_leader";
    case fault_kind::bounce_candidate:
      return "bounce_candidate";
    case fault_kind::fatal_wipe:
      return "fatal_wipe";
    case fault_kind::campaign:
      return "campaign";
  }
  return "?";
}

namespace {

/// The faults a schedule draws from (say and heal come with others).
constexpr fault_kind drawn[] = {
  fault_kind::kill,           fault_kind::kill_leader,
  fault_kind::restart,        fault_kind::isolate,
  fault_kind::split,          fault_kind::heal,
  fault_kind::skip_slot,      fault_kind::isolate_leader,
  fault_kind::wipe,           fault_kind::power_cut,
  fault_kind::bounce_leader,  fault_kind::bounce_candidate,
};

/// What breaking a rule means for the run's parameters.
void break_rule(const std::string& rule, server_params& p) {
  if (rule == "accept")
    p.acceptor.break_accept_rule = true;
  else if (rule == "rejoin")
    p.acceptor.break_rejoin_rule = true;
  else if (rule == "ballot")
    p.proposer.break_ballot_rule = true;
  else if (rule == "sync")
    p.break_sync_rule = true;
  else if (rule == "window")
    p.proposer.break_window_rule = true;
  else if (rule == "withdraw")
    p.break_withdraw_rule = true;
  else if (rule == "time")
    p.break_time_rule = true;
  else if (!rule.empty())
    throw std::invalid_argument("no rule named '" + rule + "' to break");
}

void draw_params(const sim_run_options& o, dice& d, plan& p) {
  auto& c = p.cluster;
  c.params = sim_params();
  auto& proposer = c.params.proposer;
  proposer.seed = o.seed;
  c.params.acceptor.learn_votes = d.chance(0.3);
  proposer.prevote = d.chance(0.5);
  proposer.window = static_cast<uint32_t>(d.between(1, 8));
  proposer.batch_max = static_cast<uint32_t>(d.between(1, 8));
  // Tiny buffers and queues now and then: a learner that holds no more than
  // the window, a proposer that queues only a few commands.
  c.params.set_buffer_max(d.chance(0.3)
                            ? proposer.window
                            : proposer.window
                                + static_cast<uint32_t>(d.between(0, 16)));
  if (d.chance(0.2))
    proposer.pending_max = static_cast<uint32_t>(d.between(1, 8));
  c.params.set_check_invariants(o.broken_rule.empty());
  break_rule(o.broken_rule, c.params);
  // Clients that take longer messages than some servers do: they learn the
  // cluster's limit from the balancer, but a server may have a smaller one.
  if (d.chance(0.3))
    for (server_id id = 1; id <= c.servers; ++id)
      if (d.chance(0.5))
        c.max_text_bytes[id] = static_cast<uint32_t>(d.between(6, 24));
  c.client_retry_ms = static_cast<uint32_t>(d.between(200, 600));
}

void draw_network(const sim_run_options& o, dice& d, plan& p) {
  auto& s = p.cluster.sim;
  auto n = p.cluster.servers;
  s.seed = o.seed;
  s.drop_probability = d.chance(0.7) ? d.real(0, 0.3) : 0;
  s.duplicate_probability = d.chance(0.4) ? d.real(0, 0.3) : 0;
  s.delay_max_ms = static_cast<uint32_t>(p.slow ? d.between(1000, 60000)
                                                : d.between(0, 60));
  s.delay_min_ms = static_cast<uint32_t>(d.between(0, s.delay_max_ms));
  s.omission = d.chance(0.25);
  s.rotation_min_ms = static_cast<uint32_t>(p.slow ? d.between(180000, 240000)
                                                   : d.between(500, 2000));
  s.rotation_max_ms = s.rotation_min_ms
                      + static_cast<uint32_t>(p.slow ? d.between(0, 120000)
                                                     : d.between(0, 2000));
  if (d.chance(0.2)) {
    server_rule r;
    r.prepare_delay_ms = static_cast<int64_t>(d.between(0, 300));
    r.accept_delay_ms = static_cast<int64_t>(d.between(0, 300));
    r.commit_delay_ms = static_cast<int64_t>(d.between(0, 300));
    s.rules[static_cast<server_id>(d.between(1, n))] = r;
  }
}

void draw_chat(dice& d, plan& p, uint64_t phase_ms) {
  // Each client chats at its own pace through the whole fault phase, now
  // and then in a burst, so that faults hit commands in flight.
  p.clients = static_cast<uint32_t>(d.between(2, 4));
  for (uint32_t k = 0; k < p.clients; ++k) {
    // On a slow network a few dozen messages each, spread over the phase.
    auto pace = p.slow ? d.between(phase_ms / 40, phase_ms / 10)
                       : d.between(20, 500);
    for (uint64_t t = d.between(100, 500); t < phase_ms; t += d.between(1, 2 * pace)) {
      auto burst = d.chance(0.1) ? d.between(2, 6) : 1;
      for (uint64_t b = 0; b < burst; ++b)
        p.events.push_back({caf::timespan{std::chrono::milliseconds(t)},
                            fault_kind::say, k, {}});
      if (p.events.size() > 400)
        break;
    }
  }
}

void draw_faults(dice& d, plan& p, uint64_t phase_ms) {
  auto n = p.cluster.servers;
  auto at = [&] {
    return caf::timespan{std::chrono::milliseconds(d.between(200, phase_ms))};
  };
  auto later = [](caf::timespan t, uint64_t lo, uint64_t hi, dice& dd) {
    return t + caf::timespan{std::chrono::milliseconds(dd.between(lo, hi))};
  };
  auto server = [&] { return static_cast<uint32_t>(d.between(1, n)); };
  auto faults = d.between(0, 10);
  for (uint64_t i = 0; i < faults; ++i) {
    auto k = drawn[d.below(std::size(drawn))];
    auto t = at();
    switch (k) {
      case fault_kind::isolate_leader:
        // Just longer than a follower's election timeout, often shorter than
        // the old leader's CheckQuorum period: two leaders for a moment.
        p.events.push_back({t, k, 0, {}});
        p.events.push_back({later(t, 100, 500, d), fault_kind::heal, 0, {}});
        break;
      case fault_kind::wipe:
      case fault_kind::power_cut: {
        // Back after a while: with empty storage, or what the power left.
        auto id = server();
        p.events.push_back({t, k, id, {}});
        p.events.push_back({later(t, 0, 2000, d), fault_kind::restart, id, {}});
        break;
      }
      case fault_kind::bounce_candidate:
        // Depose the leader, then restart whoever campaigns for its place.
        p.events.push_back({t, fault_kind::kill_leader, 0, {}});
        p.events.push_back({later(t, 100, 400, d), k, 0, {}});
        break;
      case fault_kind::split: {
        scheduled e{t, k, 0, {}};
        for (server_id id = 1; id <= n; ++id)
          if (d.chance(0.5))
            e.group.push_back(id);
        if (e.group.empty() || e.group.size() == n)
          e.group = {static_cast<server_id>(d.between(1, n))};
        p.events.push_back(std::move(e));
        break;
      }
      default:
        p.events.push_back({t, k, server(), {}});
    }
  }
  if (d.chance(0.5)) {
    // A proposer restarted while it still leads with its first ballot and
    // has slots in flight: the moment a forgotten ballot would be reused.
    auto t = caf::timespan{std::chrono::milliseconds(d.between(250, 700))};
    p.events.push_back({t, fault_kind::bounce_leader, 0, {}});
    p.events.push_back({later(t, 1, 30, d), fault_kind::campaign, 0, {}});
  }
  if (d.chance(0.05)) {
    // More disks lost at once than the cluster tolerates: waiting is the
    // only right outcome (and never a lost or changed message).
    scheduled e{at(), fault_kind::fatal_wipe, 0, {}};
    std::vector<server_id> ids;
    for (server_id id = 1; id <= n; ++id)
      ids.push_back(id);
    std::shuffle(ids.begin(), ids.end(), d.engine());
    e.group.assign(ids.begin(), ids.begin() + p.f + 1);
    p.events.push_back(e);
  }
}

} // namespace

plan make_plan(const sim_run_options& o, dice& d) {
  plan p;
  p.f = d.chance(0.5) ? 1 : 2;
  p.cluster.servers = 2 * p.f + 1;
  p.cluster.simulator = true;
  p.slow = d.chance(0.05);
  draw_params(o, d, p);
  if (p.slow)
    p.cluster.params.tick_ms = 100; // minutes of simulated time, fewer ticks
  draw_network(o, d, p);
  p.fault_phase = std::chrono::milliseconds(
    p.slow ? d.between(60000, 900000) : d.between(3000, 15000));
  auto phase_ms = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(p.fault_phase).count());
  draw_chat(d, p, phase_ms);
  draw_faults(d, p, phase_ms);
  // Server clocks that disagree by up to six seconds, so that a new leader's
  // clock is often behind its predecessor's. From dice of their own: the
  // rest of a seed's plan stays what it was.
  dice clocks{o.seed ^ 0xC10CC10Cull};
  for (server_id id = 1; id <= p.cluster.servers; ++id)
    p.cluster.clock_offset_ms[id] = static_cast<int64_t>(clocks.between(0, 6000))
                                    - 3000;
  std::stable_sort(p.events.begin(), p.events.end(),
                   [](auto& a, auto& b) { return a.at < b.at; });
  return p;
}

const std::vector<std::pair<std::string, std::string>>& breakable_rules() {
  static const std::vector<std::pair<std::string, std::string>> rules = {
    {"accept", "acceptors accept below their promise"},
    {"rejoin", "an acceptor with lost storage votes at once with what it has"},
    {"ballot", "proposers forget their ballot round on restart and reuse it"},
    {"sync", "acceptors reply before their writes are durable"},
    {"window", "leaders decide past the window, beyond what learners hold"},
    {"withdraw", "clients never withdraw a message a server refused"},
    {"time", "entries take their leader's clock, even behind the entry before"},
  };
  return rules;
}

} // namespace cafchat::test
