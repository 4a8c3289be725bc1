#include "tests/sim/simulation.hpp"

#include <algorithm>
#include <random>
#include <sstream>

#include "actors/simulator/simulator.hpp"
#include "tests/sim/harness.hpp"

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
  isolate_leader, ///< A network blip: cut the leader off, healed shortly.
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
  }
  return "?";
}

struct scheduled {
  caf::timespan at;
  fault_kind kind;
  uint32_t arg = 0;              ///< Server id or client index.
  std::vector<server_id> group;  ///< split
};

/// Everything a seed decides before the run starts.
struct plan {
  uint32_t f = 1;
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

plan make_plan(const sim_run_options& o, dice& d) {
  plan p;
  p.f = d.chance(0.5) ? 1 : 2;
  auto n = 2 * p.f + 1;
  auto& c = p.cluster;
  c.servers = n;
  c.params = sim_params();
  c.params.seed = o.seed;
  c.params.learn_votes = d.chance(0.3);
  c.params.window = static_cast<uint32_t>(d.between(1, 8));
  c.params.batch_max = static_cast<uint32_t>(d.between(1, 8));
  c.params.check_invariants = !o.break_accept_rule;
  c.params.break_accept_rule = o.break_accept_rule;
  c.simulator = true;
  c.client_retry_ms = static_cast<uint32_t>(d.between(200, 600));
  auto& s = c.sim;
  s.seed = o.seed;
  s.drop_probability = d.chance(0.7) ? d.real(0, 0.3) : 0;
  s.duplicate_probability = d.chance(0.4) ? d.real(0, 0.3) : 0;
  s.delay_max_ms = static_cast<uint32_t>(d.between(0, 60));
  s.delay_min_ms = static_cast<uint32_t>(d.between(0, s.delay_max_ms));
  s.omission = d.chance(0.25);
  s.rotation_min_ms = static_cast<uint32_t>(d.between(500, 2000));
  s.rotation_max_ms = s.rotation_min_ms + static_cast<uint32_t>(d.between(0, 2000));
  if (d.chance(0.2)) {
    server_rule r;
    r.prepare_delay_ms = static_cast<int64_t>(d.between(0, 300));
    r.accept_delay_ms = static_cast<int64_t>(d.between(0, 300));
    r.commit_delay_ms = static_cast<int64_t>(d.between(0, 300));
    s.rules[static_cast<server_id>(d.between(1, n))] = r;
  }
  p.clients = static_cast<uint32_t>(d.between(2, 4));
  p.fault_phase = std::chrono::milliseconds(d.between(3000, 15000));
  auto phase_ms = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(p.fault_phase).count());
  auto at = [&] { return caf::timespan{std::chrono::milliseconds(d.between(200, phase_ms))}; };
  // Each client chats at its own pace through the whole fault phase, now
  // and then in a burst, so that faults hit commands in flight.
  for (uint32_t k = 0; k < p.clients; ++k) {
    auto pace = d.between(20, 500);
    for (uint64_t t = d.between(100, 500); t < phase_ms; t += d.between(1, 2 * pace)) {
      auto burst = d.chance(0.1) ? d.between(2, 6) : 1;
      for (uint64_t b = 0; b < burst; ++b)
        p.events.push_back({caf::timespan{std::chrono::milliseconds(t)},
                            fault_kind::say, k, {}});
      if (p.events.size() > 400)
        break;
    }
  }
  auto faults = d.between(0, 10);
  for (uint64_t i = 0; i < faults; ++i) {
    auto k = static_cast<fault_kind>(d.between(1, 8));
    if (k == fault_kind::isolate_leader) {
      // Just longer than a follower's election timeout, often shorter than
      // the old leader's CheckQuorum period: two leaders for a moment.
      auto t = at();
      auto blip = std::chrono::milliseconds(d.between(100, 500));
      p.events.push_back({t, k, 0, {}});
      p.events.push_back({t + blip, fault_kind::heal, 0, {}});
      continue;
    }
    scheduled e{at(), k, static_cast<uint32_t>(d.between(1, n)), {}};
    if (k == fault_kind::split) {
      for (server_id id = 1; id <= n; ++id)
        if (d.chance(0.5))
          e.group.push_back(id);
      if (e.group.empty() || e.group.size() == n)
        e.group = {static_cast<server_id>(d.between(1, n))};
    }
    p.events.push_back(std::move(e));
  }
  std::stable_sort(p.events.begin(), p.events.end(),
                   [](auto& a, auto& b) { return a.at < b.at; });
  return p;
}

std::string describe(const scheduled& e) {
  std::ostringstream os;
  os << "{\"t\":"
     << std::chrono::duration_cast<std::chrono::milliseconds>(e.at).count()
     << ",\"event\":\"schedule\",\"action\":\"" << name_of(e.kind) << "\"";
  if (e.kind == fault_kind::say)
    os << ",\"client\":" << e.arg;
  else if (e.kind == fault_kind::split) {
    os << ",\"group\":[";
    for (size_t i = 0; i < e.group.size(); ++i)
      os << (i ? "," : "") << e.group[i];
    os << "]";
  } else if (e.kind != fault_kind::heal && e.kind != fault_kind::kill_leader
             && e.kind != fault_kind::skip_slot
             && e.kind != fault_kind::isolate_leader)
    os << ",\"server\":" << e.arg;
  os << "}";
  return os.str();
}

void control(cluster_harness& h, sim_control ctl) {
  caf::anon_send(h.sim, std::move(ctl));
}

void apply(cluster_harness& h, const scheduled& e, std::vector<uint64_t>& said) {
  switch (e.kind) {
    case fault_kind::say: {
      auto& c = *h.clients[e.arg];
      h.say(c, c.name + "#" + std::to_string(++said[e.arg]));
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
  }
}

std::string progress_report(const cluster_harness& h) {
  std::ostringstream os;
  os << "no progress after the faults healed:";
  for (auto& c : h.clients)
    os << " " << c->name << " acked " << c->rec->acked << "/" << c->said.size()
       << " saw " << c->rec->entries.size() << "/" << h.total_said() << ";";
  return os.str();
}

} // namespace

sim_run_result run_simulation(const sim_run_options& o) {
  sim_run_result r;
  dice d{o.seed};
  auto p = make_plan(o, d);
  r.f = p.f;
  r.clients = p.clients;
  std::vector<std::string> crashes;
  p.cluster.log = event_log::to_sink([&](const std::string& line) {
    if (o.trace)
      o.trace(line);
    if (line.find("\"event\":\"crash\"") != std::string::npos)
      crashes.push_back(line);
    else if (line.find("\"event\":\"leader\"") != std::string::npos)
      ++r.leader_changes;
  });
  det_fixture fx;
  cluster_harness h{fx, p.cluster};
  for (uint32_t k = 0; k < p.clients; ++k)
    h.add_client("c" + std::to_string(k + 1));
  std::vector<uint64_t> said(p.clients, 0);
  auto rng = &d.engine();
  // Fault phase: the schedule, with actors run in a seed-chosen order.
  for (auto& e : p.events) {
    if (e.at > fx.now())
      fx.run_for(e.at - fx.now(), rng);
    if (o.trace)
      o.trace(describe(e));
    apply(h, e, said);
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
  for (auto& [id, host] : h.hosts)
    if (h.running(id) == nullptr)
      h.restart(id);
  r.messages = h.total_said();
  bool settled = h.settle(60s, rng);
  r.sim_seconds = std::chrono::duration<double>(fx.now()).count();
  if (auto st = cluster_harness::peek<simulator_state>(h.sim)) {
    r.dropped = st->counters().dropped;
    r.duplicated = st->counters().duplicated;
  }
  for (auto& [id, disk] : h.disks)
    r.slots = std::max<uint64_t>(r.slots, disk.learner->load().applied_upto);
  if (!crashes.empty()) {
    r.ok = false;
    r.violation = "invariant: " + crashes.front();
  } else if (auto err = check_histories(h); !err.empty()) {
    r.ok = false;
    r.violation = err;
  } else if (auto err2 = check_decided_logs(h); !err2.empty()) {
    r.ok = false;
    r.violation = err2;
  } else if (!settled) {
    r.ok = false;
    r.violation = progress_report(h);
  }
  return r;
}

} // namespace cafchat::test
