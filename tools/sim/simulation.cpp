#include "tools/sim/simulation.hpp"

#include <algorithm>
#include <sstream>

#include "actors/common/actor_util.hpp"
#include "actors/common/json.hpp"
#include "actors/common/quorum.hpp"
#include "actors/simulator/simulator.hpp"
#include "tools/sim/harness.hpp"
#include "tools/sim/schedule.hpp"

// The run loop: plays a seed's schedule (schedule.hpp) on the cluster,
// heals every fault, waits for every message, then judges the run by the
// roles' invariant checks, the global Paxos monitor and the history checks
// (checker.cpp).

namespace cafchat::test {

namespace {

using namespace std::chrono_literals;

/// The trace's own lines start like the event log's: t first, then event.
ordered_json trace_line(caf::timespan at, std::string_view event) {
  return {{"t", std::chrono::duration_cast<std::chrono::milliseconds>(at).count()},
          {"event", event}};
}

std::string describe(const scheduled& e) {
  auto j = trace_line(e.at, "schedule");
  j["action"] = name_of(e.kind);
  switch (e.kind) {
    case fault_kind::say:
      j["client"] = e.arg;
      break;
    case fault_kind::split:
    case fault_kind::fatal_wipe:
      j["group"] = e.group;
      break;
    case fault_kind::campaign:
    case fault_kind::kill:
    case fault_kind::restart:
    case fault_kind::isolate:
    case fault_kind::wipe:
    case fault_kind::power_cut:
      j["server"] = e.arg;
      break;
    default:
      break;
  }
  return json_line(j);
}

/// Sends the simulator `action`, on `server` (isolate) or with one side
/// `servers` (split).
void control(cluster_harness& h, sim_action action, server_id server = 0,
             std::vector<server_id> servers = {}) {
  sim_control ctl;
  ctl.action = action;
  ctl.server = server;
  ctl.servers = std::move(servers);
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
    case fault_kind::isolate:
      control(h, sim_action::isolate, e.arg);
      break;
    case fault_kind::split:
      control(h, sim_action::split, 0, e.group);
      break;
    case fault_kind::heal:
      control(h, sim_action::heal);
      break;
    case fault_kind::skip_slot:
      if (auto l = h.leader(); l != 0)
        h.skip_slot(l);
      break;
    case fault_kind::isolate_leader:
      if (auto l = h.leader(); l != 0)
        control(h, sim_action::isolate, l);
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
        o.trace(json_line({{"t", t.count()},
                           {"client", name},
                           {"event", to_string(n.event)},
                           {"server", n.server},
                           {"seq", n.seq}}));
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
  if (o.trace) {
    auto heal = trace_line(fx.now(), "schedule");
    heal["action"] = "heal_all";
    o.trace(json_line(heal));
  }
  control(h, sim_action::all_off);
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
