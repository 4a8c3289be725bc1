#include "tools/sim/simulation.hpp"

#include <algorithm>
#include <random>
#include <sstream>

#include "actors/common/actor_util.hpp"
#include "actors/common/quorum.hpp"
#include "actors/simulator/simulator.hpp"
#include "tools/sim/harness.hpp"

namespace cafchat::test {

namespace {

using namespace std::chrono_literals;

enum class fault_kind {
  say,
  kill,
  kill_leader,
  restart,
  isolate,
  split,
  heal,
  skip_slot,
  isolate_leader,   ///< A network blip: cut the leader off, healed shortly.
  wipe,             ///< A lost disk: the server restarts with empty storage.
  power_cut,        ///< The server's next write is lost; the server stops.
  bounce_leader,    ///< The leader crashes and restarts at once.
  bounce_candidate, ///< Whoever campaigns crashes and restarts at once.
  fatal_wipe,       ///< f+1 disks lost at once: beyond what f tolerates.
  campaign,         ///< A (restarted) proposer runs for leader at once.
};

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

/// The faults a schedule draws from (say and heal come with others).
constexpr fault_kind drawn[] = {
  fault_kind::kill,           fault_kind::kill_leader,
  fault_kind::restart,        fault_kind::isolate,
  fault_kind::split,          fault_kind::heal,
  fault_kind::skip_slot,      fault_kind::isolate_leader,
  fault_kind::wipe,           fault_kind::power_cut,
  fault_kind::bounce_leader,  fault_kind::bounce_candidate,
};

struct scheduled {
  caf::timespan at;
  fault_kind kind;
  uint32_t arg = 0;              ///< Server id or client index.
  std::vector<server_id> group;  ///< split, fatal_wipe
};

/// Everything a seed decides before the run starts.
struct plan {
  uint32_t f = 1;
  /// A slow network: one-way delays of up to a minute, as prior system 000
  /// had (timeouts must follow it; docs/design.md, "Timeouts").
  bool slow = false;
  harness_options cluster;
  uint32_t clients = 2;
  caf::timespan fault_phase{};
  std::vector<scheduled> events;
};

class dice {
public:
  explicit dice(uint64_t seed) : rng_(seed * 0x9E3779B97F4A7C15ull + 0x5EED) {}
  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
  }
  double real(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(rng_() >> 11) * 0x1.0p-53);
  }
  std::mt19937_64& engine() { return rng_; }

private:
  std::mt19937_64 rng_;
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

std::string describe(const scheduled& e) {
  std::ostringstream os;
  os << "{\"t\":"
     << std::chrono::duration_cast<std::chrono::milliseconds>(e.at).count()
     << ",\"event\":\"schedule\",\"action\":\"" << name_of(e.kind) << "\"";
  switch (e.kind) {
    case fault_kind::say:
      os << ",\"client\":" << e.arg;
      break;
    case fault_kind::split:
    case fault_kind::fatal_wipe:
      os << ",\"group\":[";
      for (size_t i = 0; i < e.group.size(); ++i)
        os << (i ? "," : "") << e.group[i];
      os << "]";
      break;
    case fault_kind::campaign:
    case fault_kind::kill:
    case fault_kind::restart:
    case fault_kind::isolate:
    case fault_kind::wipe:
    case fault_kind::power_cut:
      os << ",\"server\":" << e.arg;
      break;
    default:
      break;
  }
  os << "}";
  return os.str();
}

void control(cluster_harness& h, sim_control ctl) {
  caf::anon_send(h.sim, std::move(ctl));
}

/// A chat line: sometimes long enough for a server with a small limit to
/// refuse it.
std::string line_of(const test_client& c, uint64_t k, dice& d) {
  auto s = c.name + "#" + std::to_string(k);
  if (d.chance(0.15))
    s += std::string(d.between(1, 40), '.');
  return s;
}

struct run_state {
  std::vector<uint64_t> said;
  server_id bounced = 0; ///< The last server bounce_leader restarted.
  sim_run_result* result = nullptr;
  dice* d = nullptr;
  det_fixture* fx = nullptr;
};

void bounce(cluster_harness& h, server_id id, run_state& rs) {
  if (h.running(id) == nullptr)
    return;
  h.kill(id);
  h.restart(id);
  ++rs.result->bounces;
}

void apply(cluster_harness& h, const scheduled& e, run_state& rs) {
  switch (e.kind) {
    case fault_kind::say: {
      auto& c = *h.clients[e.arg];
      h.say(c, line_of(c, ++rs.said[e.arg], *rs.d));
      break;
    }
    case fault_kind::kill:
      if (h.running(e.arg) != nullptr)
        h.kill(e.arg);
      break;
    case fault_kind::kill_leader:
      if (auto l = h.leader(); l != 0)
        h.kill(l);
      break;
    case fault_kind::restart:
      if (h.running(e.arg) == nullptr)
        h.restart(e.arg);
      break;
    case fault_kind::isolate: {
      sim_control ctl;
      ctl.action = sim_action::isolate;
      ctl.server = e.arg;
      control(h, ctl);
      break;
    }
    case fault_kind::split: {
      sim_control ctl;
      ctl.action = sim_action::split;
      ctl.servers = e.group;
      control(h, ctl);
      break;
    }
    case fault_kind::heal: {
      sim_control ctl;
      ctl.action = sim_action::heal;
      control(h, ctl);
      break;
    }
    case fault_kind::skip_slot:
      if (auto l = h.leader(); l != 0)
        h.skip_slot(l);
      break;
    case fault_kind::isolate_leader:
      if (auto l = h.leader(); l != 0) {
        sim_control ctl;
        ctl.action = sim_action::isolate;
        ctl.server = l;
        control(h, ctl);
      }
      break;
    case fault_kind::wipe:
      h.wipe(e.arg);
      ++rs.result->wipes;
      break;
    case fault_kind::power_cut:
      if (h.running(e.arg) != nullptr)
        h.cut_power(e.arg);
      break;
    case fault_kind::bounce_leader: {
      // At the worst moment: while the leader has accepts in flight (within
      // a fifth of a simulated second; then whatever it has).
      rs.fx->run_until_step(
        [&] {
          auto l = h.leader();
          auto p = l == 0 ? nullptr : h.proposer(l);
          return p != nullptr && p->in_flight() > 0;
        },
        std::chrono::milliseconds(200));
      if (auto l = h.leader(); l != 0) {
        bounce(h, l, rs);
        rs.bounced = l;
      }
      break;
    }
    case fault_kind::campaign:
      if (auto info = rs.bounced == 0 ? nullptr : h.running(rs.bounced))
        caf::anon_send(info->proposer, campaign_atom::value);
      break;
    case fault_kind::bounce_candidate: {
      bool any = false;
      for (auto& [id, host] : h.hosts)
        if (auto p = h.proposer(id);
            p != nullptr && (p->role() == proposer_role::candidate
                             || p->role() == proposer_role::precandidate)) {
          bounce(h, id, rs);
          any = true;
        }
      if (!any)
        bounce(h, static_cast<server_id>(
                    rs.d->between(1, static_cast<uint64_t>(h.hosts.size()))),
               rs);
      break;
    }
    case fault_kind::fatal_wipe:
      for (auto id : e.group) {
        h.wipe(id);
        h.restart(id);
        ++rs.result->wipes;
      }
      break;
  }
}

std::string progress_report(const cluster_harness& h) {
  std::ostringstream os;
  os << "no progress after the faults healed:";
  for (auto& c : h.clients)
    os << " " << c->name << " acked " << c->rec->acked << "/" << c->said.size()
       << " saw " << c->rec->entries.size() << "/" << h.total_kept() << ";";
  return os.str();
}

/// Servers whose storage votes: a wiped one that never rejoined does not.
size_t voting(cluster_harness& h) {
  size_t n = 0;
  for (auto& [id, disk] : h.disks)
    n += disk.acceptor->load().meta.voting ? 1 : 0;
  return n;
}

} // namespace

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

sim_run_result run_simulation(const sim_run_options& o) {
  print_crashes(false); // the trace has them
  sim_run_result r;
  dice d{o.seed};
  auto p = make_plan(o, d);
  r.f = p.f;
  r.clients = p.clients;
  std::vector<std::string> crashes;
  p.cluster.log = event_log::to_sink([&](const std::string& line) {
    if (o.trace)
      o.trace(line);
    if (line.find("\"event\":\"crash\"") != std::string::npos
        || line.find("\"event\":\"protocol_violation\"") != std::string::npos)
      crashes.push_back(line);
    else if (line.find("\"event\":\"leader\"") != std::string::npos)
      ++r.leader_changes;
  });
  det_fixture fx;
  cluster_harness h{fx, p.cluster};
  for (uint32_t k = 0; k < p.clients; ++k) {
    auto& c = h.add_client("c" + std::to_string(k + 1));
    if (o.trace)
      c.rec->trace = [&o, &fx, name = c.name](const client_notice& n) {
        auto t = std::chrono::duration_cast<std::chrono::milliseconds>(fx.now());
        o.trace("{\"t\":" + std::to_string(t.count()) + ",\"client\":\"" + name
                + "\",\"event\":\"" + to_string(n.event) + "\",\"server\":"
                + std::to_string(n.server) + ",\"seq\":" + std::to_string(n.seq)
                + "}");
      };
  }
  run_state rs{std::vector<uint64_t>(p.clients, 0), 0, &r, &d, &fx};
  auto rng = &d.engine();
  // Fault phase: the schedule, with actors run in a seed-chosen order.
  for (auto& e : p.events) {
    if (e.at > fx.now())
      fx.run_for(e.at - fx.now(), rng);
    if (o.trace)
      o.trace(describe(e));
    apply(h, e, rs);
    if (e.kind == fault_kind::fatal_wipe)
      r.fatal = true;
    if (e.kind != fault_kind::say)
      ++r.faults;
  }
  if (p.fault_phase > fx.now())
    fx.run_for(p.fault_phase - fx.now(), rng);
  // Heal: no more faults, every server up again.
  if (o.trace)
    o.trace("{\"t\":" + std::to_string(std::chrono::duration_cast<
                                        std::chrono::milliseconds>(fx.now())
                                        .count())
            + ",\"event\":\"schedule\",\"action\":\"heal_all\"}");
  sim_control off;
  off.action = sim_action::all_off;
  control(h, off);
  for (auto& [id, pw] : h.power)
    pw->cut = false; // a cut still armed would be a fault after the heal
  fx.drain(rng); // kills still on their way land first
  for (auto& [id, host] : h.hosts)
    if (h.running(id) == nullptr)
      h.restart(id);
  fx.drain(rng);
  // Wiped servers rejoin only through a majority of voting ones: with fewer,
  // nothing can be decided any more, and waiting is right.
  if (voting(h) < majority(h.hosts.size()))
    r.fatal = true;
  r.messages = h.total_said();
  // Every message must be in within a bound: a minute, plus, with a tiny
  // proposer queue, the resend rounds the backlog needs (each round gets
  // about pending_max commands in).
  auto rounds = r.messages / std::max<uint64_t>(1, p.cluster.params.proposer.pending_max);
  auto limit = 60s + std::chrono::milliseconds(2 * rounds
                                               * p.cluster.client_retry_ms);
  if (p.slow) // elections and decisions take a few one-way delays each
    limit += std::chrono::milliseconds(40 * uint64_t{p.cluster.sim.delay_max_ms});
  r.slow = p.slow;
  bool settled = h.settle(r.fatal ? caf::timespan{20s} : limit, rng);
  r.sim_seconds = std::chrono::duration<double>(fx.now()).count();
  if (auto st = cluster_harness::peek<simulator_state>(h.sim)) {
    r.dropped = st->counters().dropped;
    r.duplicated = st->counters().duplicated;
  }
  for (auto& [id, pw] : h.power)
    r.power_cuts += pw->failed;
  for (auto& c : h.clients)
    r.withdrawn += c->rec->withdrawn.size();
  for (auto& [id, disk] : h.disks)
    r.slots = std::max<uint64_t>(r.slots, disk.learner->load().applied_upto);
  if (!crashes.empty()) {
    r.ok = false;
    r.violation = "invariant: " + crashes.front();
  } else if (auto m = h.monitor->violation(); !m.empty()) {
    r.ok = false;
    r.violation = "paxos: " + m;
  } else if (auto err = check_histories(h, r.fatal); !err.empty()) {
    r.ok = false;
    r.violation = err;
    if (getenv("CAFCHAT_SIM_DEBUG"))
      for (auto& c : h.clients) {
        fprintf(stderr, "%s: acked %llu said %zu withdrawn:", c->name.c_str(),
                (unsigned long long) c->rec->acked, c->rec->said.size());
        for (auto w : c->rec->withdrawn)
          fprintf(stderr, " %llu", (unsigned long long) w);
        fprintf(stderr, "\n  entries:");
        for (auto& e : c->rec->entries)
          if (e.client == c->id)
            fprintf(stderr, " %llu@%llu", (unsigned long long) e.seq,
                    (unsigned long long) e.index);
        fprintf(stderr, "\n");
      }
  } else if (auto err2 = check_decided_logs(h); !err2.empty()) {
    r.ok = false;
    r.violation = err2;
  } else if (!settled && !r.fatal) {
    r.ok = false;
    r.violation = progress_report(h);
  }
  return r;
}

} // namespace cafchat::test
