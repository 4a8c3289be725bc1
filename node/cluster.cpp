#include "node/cluster.hpp"

#include <chrono>
#include <filesystem>

#include "caf/send.hpp"

#include "actors/load_balancer/load_balancer.hpp"
#include "actors/server/host_actor.hpp"
#include "actors/simulator/simulator.hpp"
#include "actors/storage/lmdb_storage.hpp"
#include "actors/storage/memory_storage.hpp"
#include "messages/atoms.hpp"

namespace cafchat {

void cluster::stop() {
  for (auto& [id, h] : hosts)
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  if (load_balancer)
    caf::anon_send_exit(load_balancer, caf::exit_reason::user_shutdown);
  if (simulator)
    caf::anon_send_exit(simulator, caf::exit_reason::user_shutdown);
}

uint64_t utc_now_ms() {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count());
}

event_log_ptr open_event_log(const std::string& pattern, const std::string& id,
                             const log_tee& tee) {
  auto wall_ms = [] { return static_cast<int64_t>(utc_now_ms()); };
  if (pattern.empty())
    return tee ? event_log::tee("", wall_ms, tee.sink, tee.active)
               : event_log::null();
  auto path = node_config::expand(pattern, id);
  auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty())
    std::filesystem::create_directories(dir, ec);
  if (tee)
    return event_log::tee(path, wall_ms, tee.sink, tee.active);
  return event_log::open_file(path, wall_ms);
}

server_storage open_storage(const node_config& cfg, server_id id) {
  if (cfg.storage == "memory")
    return make_memory_storage();
  if (cfg.storage == "lmdb")
    return open_lmdb_storage(node_config::expand(cfg.data_dir,
                                                 std::to_string(id)),
                             id);
  throw std::runtime_error("server " + std::to_string(id) + ": storage = "
                           + cfg.storage + " is not supported by this build");
}

server_config make_server_config(const node_config& cfg, server_id id,
                                 server_storage storage, event_log_ptr log,
                                 caf::actor simulator) {
  server_config sc;
  sc.id = id;
  sc.params = cfg.params;
  sc.storage = std::move(storage);
  sc.log = std::move(log);
  sc.simulator = std::move(simulator);
  sc.wall_clock = utc_now_ms; // the leaders' batch times
  auto i = cfg.nodes.find(std::to_string(id));
  if (i != cfg.nodes.end()) {
    sc.host = i->second.host;
    sc.port = i->second.port;
  }
  return sc;
}

front_actors start_front(caf::actor_system& sys, const node_config& cfg,
                         event_log_ptr log) {
  front_actors f;
  if (cfg.sim.enabled) {
    simulator_config simc;
    simc.opts = cfg.sim;
    simc.servers = cfg.servers;
    simc.log = log;
    f.simulator = sys.spawn(simulator_actor, simc);
  }
  load_balancer_config lc;
  lc.servers = cfg.servers;
  lc.max_text_bytes = cfg.params.max_text_bytes;
  lc.max_clients = cfg.params.limits.sessions_per_server
                   * static_cast<uint32_t>(cfg.servers.size());
  lc.simulator = f.simulator;
  lc.log = std::move(log);
  f.load_balancer = sys.spawn(load_balancer, lc);
  return f;
}

cluster start_local_cluster(caf::actor_system& sys, const node_config& cfg,
                            const log_tee& tee) {
  cluster c;
  auto front = start_front(sys, cfg, open_event_log(cfg.lb_events, "lb", tee));
  c.load_balancer = front.load_balancer;
  c.simulator = front.simulator;
  // Every server of the cluster runs here, so this process sees every disk:
  // if all of them are new, this is a brand-new cluster, and its servers
  // found it. Otherwise a new disk is a lost one, and rejoins.
  for (auto id : cfg.servers)
    c.storage[id] = open_storage(cfg, id);
  bool all_new = true;
  for (auto& [id, s] : c.storage)
    all_new = all_new && s.fresh;
  c.bootstrapped = all_new;
  std::vector<caf::actor> hosts;
  for (auto id : cfg.servers) {
    auto& storage = c.storage[id];
    host_config hc;
    hc.server = make_server_config(cfg, id, storage,
                                   open_event_log(cfg.events, std::to_string(id),
                                                  tee),
                                   c.simulator);
    hc.server.founder = all_new;
    if (cfg.storage == "memory")
      hc.new_storage = [] { return make_memory_storage(); };
    hc.load_balancer = c.load_balancer;
    auto h = sys.spawn(host_actor, hc);
    c.hosts[id] = h;
    hosts.push_back(h);
  }
  for (auto& h : hosts)
    caf::anon_send(h, hosts_atom::value, hosts);
  return c;
}

} // namespace cafchat
