#include "node/distributed.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "caf/atom.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/openssl/publish.hpp"
#include "caf/openssl/remote_actor.hpp"

#include "messages/registry.hpp"
#include "caf/send.hpp"

#include "actors/common/peer_auth.hpp"
#include "actors/server/host_actor.hpp"
#include "actors/web/event_feed.hpp"
#include "node/cluster.hpp"
#include "node/connector.hpp"
#include "node/net_guard.hpp"

namespace cafchat {

void configure_runtime(caf::actor_system_config& sys_cfg,
                       const node_config& cfg) {
  add_message_types(sys_cfg);
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.threads));
  sys_cfg.set("scheduler.policy", caf::atom_from_string(cfg.scheduler_policy()));
  if (cfg.distributed())
    configure_network(sys_cfg, cfg);
}

std::string resolve_tls(node_config& cfg, const std::string& node_id,
                        const std::string& cert, const std::string& key,
                        const std::string& ca) {
  if (!ca.empty())
    cfg.tls_ca = ca;
  if (!cert.empty())
    cfg.tls_certificate = cert;
  if (!key.empty())
    cfg.tls_key = key;
  if (!cfg.tls() && cert.empty() && key.empty())
    return {};
  if (cfg.tls_ca.empty())
    return "TLS needs the CA certificate: [tls] ca in " + cfg.path
           + ", or --ca FILE";
  if (cfg.tls_certificate.empty() || cfg.tls_key.empty())
    return "this cluster runs mutual TLS ([tls] in " + cfg.path
           + "): give this program its certificate and key with --cert FILE "
             "--key FILE (tools/gen-certs makes them)";
  cfg.tls_certificate = node_config::expand(cfg.tls_certificate, node_id);
  cfg.tls_key = node_config::expand(cfg.tls_key, node_id);
  for (auto [what, path] : {std::pair{"CA certificate", cfg.tls_ca},
                            std::pair{"certificate", cfg.tls_certificate},
                            std::pair{"private key", cfg.tls_key}})
    if (::access(path.c_str(), R_OK) != 0)
      return std::string{"cannot read the "} + what + " " + path
             + " (tools/gen-certs --config " + cfg.path
             + " --out DIR makes them)";
  struct stat st;
  if (::stat(cfg.tls_key.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return "the private key " + cfg.tls_key
           + " is readable by others than its owner: chmod 600 it";
  return {};
}

void configure_network(caf::actor_system_config& sys_cfg,
                       const node_config& cfg) {
  sys_cfg.load<caf::io::middleman>();
  if (cfg.tls()) {
    sys_cfg.load<caf::openssl::manager>();
    sys_cfg.set("openssl.certificate", cfg.tls_certificate);
    sys_cfg.set("openssl.key", cfg.tls_key);
    sys_cfg.set("openssl.cafile", cfg.tls_ca);
  }
  net_guard_settings ng;
  ng.max_frame_bytes = cfg.max_frame_bytes;
  ng.max_backlog_bytes = cfg.connection_backlog_max_bytes;
  ng.tls = cfg.tls();
  if (auto why = install_net_guard(ng); !why.empty())
    throw std::runtime_error(why);
  sys_cfg.set("middleman.heartbeat-interval",
              caf::timespan{std::chrono::milliseconds(cfg.heartbeat_interval_ms)});
  sys_cfg.set("middleman.workers", static_cast<size_t>(cfg.network_workers));
  sys_cfg.set("middleman.connection-timeout",
              caf::timespan{std::chrono::milliseconds(cfg.connection_timeout_ms)});
}

caf::io::middleman_actor network_handle(caf::actor_system& sys) {
  if (sys.has_openssl_manager())
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

caf::expected<caf::actor> connect_to(caf::actor_system& sys,
                                     const std::string& host, uint16_t port) {
  if (sys.has_openssl_manager())
    return caf::openssl::remote_actor(sys, host, port);
  return sys.middleman().remote_actor(host, port);
}

caf::expected<caf::actor> connect_to(caf::actor_system& sys,
                                     const std::string& host, uint16_t port,
                                     const principal& expected) {
  auto x = connect_to(sys, host, port);
  if (!x || !peers_authenticated())
    return x;
  auto who = principal_of(x->node(), sys.node());
  if (who == expected)
    return x;
  return caf::make_error(caf::sec::invalid_argument,
                         "the certificate at " + host + ":"
                           + std::to_string(port) + " is that of "
                           + who.describe() + ", not of "
                           + expected.describe());
}

bool is_wrong_peer(const caf::error& err) {
  return err == caf::sec::invalid_argument;
}

void say_if_unauthenticated(const node_config& cfg, const std::string& who,
                            const event_log_ptr& log, server_id id) {
  if (cfg.tls())
    return;
  std::cerr << "cafchat: " << who << " runs WITHOUT TLS: connections are "
            << "neither encrypted nor authenticated, and anyone who reaches "
            << "its port may act as any node or operator (loopback demos "
            << "only; see docs/security.md)" << std::endl;
  if (log && log->enabled())
    log->event(0, id, "unauthenticated")
      .field("why", "no [tls] section: plaintext connections");
}

namespace {

void wait_for(const std::atomic<bool>& stop) {
  while (!stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

/// Publishes `a` on the configured address and port only; prints why not on
/// failure.
bool publish(caf::actor_system& sys, const caf::actor& a,
             const node_endpoint& ep) {
  auto port = sys.has_openssl_manager()
                ? caf::openssl::publish(a, ep.port, ep.host.c_str(), true)
                : sys.middleman().publish(a, ep.port, ep.host.c_str(), true);
  if (!port) {
    std::cerr << "caf-node: node " << ep.id << ": cannot listen on "
              << ep.host << ":" << ep.port << ": "
              << sys.render(port.error()) << std::endl;
    return false;
  }
  return true;
}

int run_lb(caf::actor_system& sys, const node_config& cfg,
           const std::atomic<bool>& stop) {
  auto& ep = cfg.nodes.at("lb");
  auto lb_log = open_event_log(cfg.lb_events, "lb");
  set_refusal_log(lb_log, 0);
  say_if_unauthenticated(cfg, "the load balancer", lb_log, 0);
  auto front = start_front(sys, cfg, lb_log);
  auto lb = front.load_balancer;
  auto sim = front.simulator;
  int rc = 0;
  if (publish(sys, lb, ep)) {
    std::cerr << "cafchat: load balancer on " << ep.host << ":" << ep.port
              << (sim ? " with the simulator" : "") << "; waiting for servers";
    for (auto id : cfg.servers)
      std::cerr << " " << id;
    std::cerr << std::endl;
    wait_for(stop);
    sys.middleman().unpublish(lb, ep.port);
  } else {
    rc = 1;
  }
  caf::anon_send_exit(lb, caf::exit_reason::user_shutdown);
  if (sim)
    caf::anon_send_exit(sim, caf::exit_reason::user_shutdown);
  return rc;
}

int run_server(caf::actor_system& sys, const node_config& cfg, server_id id,
               bool bootstrap, const std::atomic<bool>& stop) {
  auto& ep = cfg.nodes.at(std::to_string(id));
  server_storage storage;
  event_log_ptr log;
  // The web console's view of this node's events (caf-web subscribes through
  // the host); idle until someone does.
  auto tap = std::make_shared<event_tap>();
  log_tee tee{[tap](const std::string& line) { tap->push(line); },
              tap->active_flag()};
  try {
    storage = open_storage(cfg, id);
    log = open_event_log(cfg.events, std::to_string(id), tee);
  } catch (std::exception& e) {
    std::cerr << "caf-node: server " << id << ": " << e.what() << std::endl;
    return 1;
  }
  set_refusal_log(log, id);
  say_if_unauthenticated(cfg, "server " + std::to_string(id), log, id);
  host_config hc;
  hc.server = make_server_config(cfg, id, storage, log, caf::actor{});
  hc.server.founder = bootstrap;
  auto feed = sys.spawn(event_feed, event_feed_config{tap, 200});
  hc.event_feed = feed;
  auto dir = node_config::expand(cfg.data_dir, std::to_string(id));
  if (bootstrap && !storage.fresh)
    std::cerr << "caf-node: server " << id << ": --bootstrap ignored: "
              << (cfg.storage == "lmdb" ? dir : std::string{"its storage"})
              << " already holds this server's state" << std::endl;
  else if (!bootstrap && storage.fresh)
    std::cerr << "cafchat: server " << id << ": its storage is new, so it "
              << "rejoins the cluster before it votes (the first start of a "
              << "new cluster needs --bootstrap on every server; see "
              << "docs/operations.md)" << std::endl;
  hc.incarnation_base = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch())
      .count()) * 1000;
  auto host = sys.spawn(host_actor, hc);
  if (!publish(sys, host, ep)) {
    caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
    return 1;
  }
  connector_config cc;
  for (auto& [nid, other] : cfg.nodes)
    if (nid != ep.id)
      cc.targets.push_back(other);
  cc.owner = host;
  cc.connect_timeout_ms = cfg.client_connect_timeout_ms;
  cc.log = log;
  cc.self_id = id;
  auto conn = sys.spawn(connector_actor, cc);
  std::cerr << "cafchat: server " << id << " on " << ep.host << ":" << ep.port
            << ", storage " << cfg.storage;
  if (cfg.storage == "lmdb")
    std::cerr << " in " << node_config::expand(cfg.data_dir, std::to_string(id));
  if (!cfg.events.empty())
    std::cerr << ", events in "
              << node_config::expand(cfg.events, std::to_string(id));
  std::cerr << std::endl;
  wait_for(stop);
  caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
  sys.middleman().unpublish(host, ep.port);
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
  return 0;
}

} // namespace

int run_node(caf::actor_system& sys, const node_config& cfg,
             const std::string& id, bool bootstrap,
             const std::atomic<bool>& stop) {
  if (cfg.nodes.count(id) == 0) {
    std::string known;
    for (auto& [nid, ep] : cfg.nodes)
      known += (known.empty() ? "" : ", ") + nid;
    std::cerr << "caf-node: " << cfg.path << " has no node '" << id
              << "' (nodes: " << known << ")" << std::endl;
    return 2;
  }
  if (id == "lb")
    return run_lb(sys, cfg, stop);
  return run_server(sys, cfg, static_cast<server_id>(std::stoul(id)),
                    bootstrap, stop);
}

} // namespace cafchat
