#pragma once

// A whole cafchat cluster (server hosts, load balancer, optional network-fault
// simulator, chat clients) on CAF's test coordinator: one thread, simulated
// time, and an execution order chosen by the test (FIFO, or random from a
// seed). Clients record everything they see, so a test or the checker can
// compare what every client and every server ended up with.

#include <map>
#include <memory>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "actors/common/client_key.hpp"
#include "actors/client/client_actor.hpp"
#include "actors/load_balancer/load_balancer.hpp"
#include "actors/proposer/proposer_actor.hpp"
#include "actors/learner/learner_actor.hpp"
#include "actors/server/host_actor.hpp"
#include "actors/simulator/simulator.hpp"
#include "actors/storage/memory_storage.hpp"
#include "messages/atoms.hpp"
#include "tools/sim/fixture.hpp"
#include "tools/sim/sim_disk.hpp"

namespace cafchat::test {

/// What one client saw.
struct client_record : client_listener {
  std::vector<std::string> said; ///< said[k] went out with seq k + 1.
  std::vector<chat_entry> entries;
  std::vector<client_notice> notices;
  std::set<uint64_t> withdrawn; ///< Seqs a server refused, withdrawn since.
  uint64_t acked = 0;
  /// Sees every notice (the simulation's trace); may be empty.
  std::function<void(const client_notice&)> trace;

  void on_entries(const std::vector<chat_entry>& xs) override {
    entries.insert(entries.end(), xs.begin(), xs.end());
  }
  void on_notice(const client_notice& n) override {
    if (trace)
      trace(n);
    notices.push_back(n);
    if (n.event == notice_kind::withdrawn)
      withdrawn.insert(n.seq);
  }
  void on_acknowledged(uint64_t seq) override { acked = std::max(acked, seq); }
  void on_said(uint64_t seq, const std::string& text) override {
    if (said.size() < seq)
      said.resize(seq);
    said[seq - 1] = text;
  }

  size_t count(notice_kind event) const {
    size_t n = 0;
    for (auto& x : notices)
      n += x.event == event;
    return n;
  }
};

struct test_client {
  uint64_t id = 0;
  std::string name;
  caf::actor actor;
  std::shared_ptr<client_record> rec;
  /// What the test asked it to say; rec->said holds what went out (a text
  /// the client refused at once, as too long, takes no seq).
  std::vector<std::string> said;
};

struct harness_options {
  size_t servers = 3;
  server_params params;
  bool simulator = false;
  sim_options sim;     ///< The simulator's faults (with `simulator`).
  event_log_ptr sim_log; ///< The simulator's event log (may be null).
  event_log_ptr log;     ///< Every server's and the balancer's event log.
  uint32_t client_retry_ms = 300;
  /// Servers whose text limit differs from params.max_text_bytes.
  std::map<server_id, uint32_t> max_text_bytes;
  /// The clients' own limit before they learn the cluster's (0: the
  /// cluster's).
  uint32_t client_max_text_bytes = 0;
  /// Each server's wall clock (batch times) is the simulated time plus
  /// `clock_base_ms` plus its offset here (0 if none): clocks that disagree.
  uint64_t clock_base_ms = 1700000000000; // 2023-11-14, UTC
  std::map<server_id, int64_t> clock_offset_ms;
};

class cluster_harness {
public:
  cluster_harness(det_fixture& fx, harness_options opts)
    : fx_(fx), opts_(std::move(opts)) {
    auto& p = opts_.params;
    p.servers.clear();
    for (server_id id = 1; id <= opts_.servers; ++id)
      p.servers.push_back(id);
    load_balancer_config lc;
    lc.servers = p.servers;
    lc.max_text_bytes = p.max_text_bytes;
    lc.log = opts_.log;
    lb = fx_.own(fx_.sys.spawn(load_balancer, lc));
    if (opts_.simulator) {
      // Hosts announce every (re)started server to the simulator, which
      // watches them for its omission fault.
      simulator_config sc;
      sc.opts = opts_.sim;
      sc.opts.enabled = true;
      sc.log = opts_.sim_log ? opts_.sim_log : opts_.log;
      sc.servers = p.servers;
      sim = fx_.own(fx_.sys.spawn(simulator_actor, sc));
    }
    std::vector<caf::actor> hs;
    monitor = std::make_shared<paxos_monitor>(p.servers.size());
    for (auto id : p.servers) {
      power[id] = std::make_shared<test::power>();
      disks[id] = make_sim_disk(power[id]);
      host_config hc;
      hc.server.id = id;
      hc.server.params = p;
      if (auto i = opts_.max_text_bytes.find(id); i != opts_.max_text_bytes.end())
        hc.server.params.max_text_bytes = i->second;
      hc.server.storage = disks[id];
      // Every disk is new: the servers found a new cluster.
      hc.server.founder = true;
      hc.server.monitor = monitor;
      hc.server.simulator = sim;
      hc.server.log = opts_.log;
      hc.server.wall_clock = wall_clock(id);
      // A wiped server gets new storage, which the checkers read from then
      // on (the host calls this on its own thread: the test's).
      hc.new_storage = [this, id] {
        disks[id] = make_sim_disk(power[id]);
        return disks[id];
      };
      hc.load_balancer = lb;
      hosts[id] = fx_.own(fx_.sys.spawn(host_actor, hc));
      hs.push_back(hosts[id]);
    }
    for (auto& h : hs)
      caf::anon_send(h, hosts_atom::value, hs);
  }

  test_client& add_client(const std::string& name) {
    auto c = std::make_unique<test_client>();
    client_config cc;
    // A key per client, the same in every run: a seed replays exactly.
    cc.key = "sim-client-key-" + std::to_string(1000 + clients.size());
    c->id = client_id_of(cc.key);
    cc.id = c->id;
    c->name = name;
    c->rec = std::make_shared<client_record>();
    cc.name = name;
    cc.load_balancer = lb;
    cc.retry_ms = opts_.client_retry_ms;
    cc.connect_timeout_ms = 1000;
    cc.reconnect_ms = 100;
    cc.max_text_bytes = opts_.client_max_text_bytes > 0
                          ? opts_.client_max_text_bytes
                          : opts_.params.max_text_bytes;
    cc.listener = c->rec;
    cc.break_withdraw_rule = opts_.params.break_withdraw_rule;
    c->actor = fx_.own(fx_.sys.spawn(client_actor, cc));
    clients.push_back(std::move(c));
    return *clients.back();
  }

  /// Server `id`'s wall clock: simulated, so a seed replays exactly.
  std::function<uint64_t()> wall_clock(server_id id) {
    auto i = opts_.clock_offset_ms.find(id);
    auto t0 = static_cast<int64_t>(opts_.clock_base_ms)
              + (i == opts_.clock_offset_ms.end() ? 0 : i->second);
    auto fx = &fx_;
    return [fx, t0] {
      auto t = std::chrono::duration_cast<std::chrono::milliseconds>(fx->now());
      return static_cast<uint64_t>(t0 + t.count());
    };
  }

  void say(test_client& c, const std::string& text) {
    c.said.push_back(text);
    caf::anon_send(c.actor, say_atom::value, text);
  }

  void kill(server_id id) { command(operator_action::kill, id); }
  /// Crash server `id` and lose its disk; restart() then rejoins.
  void wipe(server_id id) { command(operator_action::wipe, id); }
  /// Server `id`'s next write is lost, and the server stops with it.
  void cut_power(server_id id) { power.at(id)->cut = true; }
  void restart(server_id id) { command(operator_action::restart, id); }
  void skip_slot(server_id leader) {
    command(operator_action::skip_slot, leader);
  }

  void command(operator_action a, server_id id) {
    caf::anon_send(hosts.at(id), operator_command{a, id});
  }

  // -- peeking into actors (safe: the test coordinator runs in this thread) --

  template <class State>
  static State* peek(const caf::actor& a) {
    if (!a)
      return nullptr;
    auto ptr = caf::actor_cast<caf::abstract_actor*>(a);
    auto sa = dynamic_cast<caf::stateful_actor<State>*>(ptr);
    return sa == nullptr ? nullptr : &sa->state;
  }

  /// The running server's handles, or nullptr if it is down.
  const server_info* running(server_id id) {
    auto h = peek<host_state>(hosts.at(id));
    if (h == nullptr || !h->server || !h->info.proposer)
      return nullptr;
    return &h->info;
  }

  const proposer_core* proposer(server_id id) {
    auto info = running(id);
    if (info == nullptr)
      return nullptr;
    auto st = peek<proposer_actor_state>(info->proposer);
    return st == nullptr || !st->core ? nullptr : &*st->core;
  }

  /// The live server that leads at the highest ballot, or 0.
  server_id leader() {
    server_id best = 0;
    ballot best_bal;
    for (auto& [id, h] : hosts) {
      auto p = proposer(id);
      if (p != nullptr && p->role() == proposer_role::leader
          && p->current_ballot() > best_bal) {
        best = id;
        best_bal = p->current_ballot();
      }
    }
    return best;
  }

  /// The server a client is connected to (0 while it reconnects).
  server_id server_of(const test_client& c) {
    auto st = peek<client_state>(c.actor);
    return st != nullptr && st->state == client_state::phase::connected
             ? st->server
             : 0;
  }

  /// History entries at server `id`, from storage.
  std::vector<chat_entry> history(server_id id) {
    return disks.at(id).learner->history(1, 100000000);
  }

  // -- conditions ------------------------------------------------------------

  /// Every client has seen each of its messages acknowledged (delivered, or
  /// withdrawn after a server refused it).
  bool all_acked() const {
    for (auto& c : clients)
      if (c->rec->acked < c->rec->said.size())
        return false;
    return true;
  }

  /// Every client has seen at least `n` history entries.
  bool all_saw(size_t n) const {
    for (auto& c : clients)
      if (c->rec->entries.size() < n)
        return false;
    return true;
  }

  size_t total_said() const {
    size_t n = 0;
    for (auto& c : clients)
      n += c->rec->said.size();
    return n;
  }

  /// Messages said and not withdrawn: what every history must end up with.
  size_t total_kept() const {
    size_t n = 0;
    for (auto& c : clients)
      n += c->rec->said.size() - c->rec->withdrawn.size();
    return n;
  }

  /// Waits until every client acknowledged its messages and saw all of them.
  bool settle(caf::timespan limit, std::mt19937_64* rng = nullptr) {
    return fx_.run_until(
      [this] { return all_acked() && all_saw(total_kept()); }, limit, rng);
  }

  caf::actor lb;
  caf::actor sim;
  /// The global view of every acceptor's promises and acceptances.
  std::shared_ptr<paxos_monitor> monitor;
  std::map<server_id, caf::actor> hosts;
  std::map<server_id, server_storage> disks;
  std::map<server_id, std::shared_ptr<test::power>> power;
  std::vector<std::unique_ptr<test_client>> clients;

private:
  det_fixture& fx_;
  harness_options opts_;
};

/// Fast timeouts for simulated runs: 10 ms ticks, elections after 150 ms.
inline server_params sim_params() {
  server_params p;
  p.tick_ms = 10;
  p.proposer.heartbeat_ticks = 3;
  p.proposer.election_ticks = 15;
  p.set_retry_ticks(5);
  p.learner.catchup_ticks = 5;
  p.proposer.window = 8;
  p.proposer.batch_max = 8;
  p.set_check_invariants(true);
  p.proposer.seed = 11;
  return p;
}

/// Checks what every client saw against what everyone said: one common
/// order (every client's view is a prefix of one sequence), every message
/// once, each client's messages in its order, nothing invented. Returns a
/// description of the first violation, or "" if none.
///
/// With `beyond_tolerance` (more disks were lost than the cluster tolerates)
/// gaps at the end of a history that no server's log accounts for any more
/// are not held against it.
std::string check_histories(const cluster_harness& h,
                            bool beyond_tolerance = false);

/// Checks that the decided logs of all servers (no-ops included) are
/// prefixes of one log: no slot was decided twice differently.
std::string check_decided_logs(const cluster_harness& h);

} // namespace cafchat::test
