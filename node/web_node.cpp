#include "node/web_node.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include "caf/io/middleman.hpp"
#include "caf/send.hpp"

#include "actors/web/event_feed.hpp"
#include "node/distributed.hpp"

namespace cafchat {

namespace {

gateway_config base_config(const node_config& cfg, const std::string& version) {
  gateway_config gc;
  gc.limits = cfg.web;
  gc.client_retry_ms = cfg.client_retry_ms;
  gc.connect_timeout_ms = cfg.client_connect_timeout_ms;
  gc.max_text_bytes = cfg.params.max_text_bytes;
  gc.version = version;
  return gc;
}

} // namespace

log_tee local_web::tee() const {
  if (!tap)
    return {};
  auto t = tap;
  return log_tee{[t](const std::string& line) { t->push(line); },
                 t->active_flag()};
}

local_web prepare_local_web(caf::actor_system& sys, const std::string& listen) {
  local_web w;
  w.listen = listen;
  if (listen.empty())
    return w;
  w.tap = std::make_shared<event_tap>();
  w.feed = sys.spawn(event_feed, event_feed_config{w.tap, 200});
  return w;
}

bool local_web::start(caf::actor_system& sys, const node_config& cfg,
                      const cluster& c, const std::string& version) {
  if (listen.empty())
    return true;
  auto ep = parse_web_endpoint(listen); // validated with the config
  auto gc = base_config(cfg, version);
  gc.load_balancer = c.load_balancer;
  gc.simulator = c.simulator;
  gc.local_feed = feed;
  gc.program = "caf-node";
  // The one-process demo's user is its operator, as long as only this
  // machine can reach the page.
  gc.operators = ep.loopback();
  gc.operator_note = gc.operators
                       ? "caf-node's console on loopback: its local user is "
                         "the operator"
                       : "caf-node's console listens beyond loopback, so it "
                         "grants no operator controls";
  std::string error;
  console = web_console::start(sys, ep, std::move(gc), error);
  if (!console) {
    std::cerr << "caf-node: web console: " << error << std::endl;
    return false;
  }
  std::cerr << "cafchat: web console at " << console->url()
            << (ep.loopback() ? " (operator controls on)" : "") << std::endl;
  return true;
}

void local_web::stop() {
  if (console)
    console->stop();
  console.reset();
  if (feed)
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
  feed = caf::actor{};
}

int run_web_node(caf::actor_system& sys, const node_config& cfg,
                 const web_endpoint& listen, bool operators,
                 const std::string& version, const std::atomic<bool>& stop) {
  auto& lb_ep = cfg.nodes.at("lb");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  caf::actor lb;
  bool told = false;
  while (!stop) {
    auto x = connect_to(sys, lb_ep.host, lb_ep.port,
                        principal::load_balancer());
    if (x) {
      lb = *x;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline
        || is_wrong_peer(x.error())) {
      std::cerr << "caf-web: no load balancer at " << lb_ep.host << ":"
                << lb_ep.port << ": " << sys.render(x.error()) << std::endl;
      return 1;
    }
    if (!told) {
      std::cerr << "caf-web: waiting for the load balancer at " << lb_ep.host
                << ":" << lb_ep.port << " ..." << std::endl;
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!lb)
    return 0;
  auto gc = base_config(cfg, version);
  gc.load_balancer = lb;
  gc.middleman = network_handle(sys);
  for (auto& [id, ep] : cfg.nodes)
    if (id != "lb")
      gc.server_nodes.emplace_back(ep.host, ep.port);
  gc.program = "caf-web";
  gc.operators = operators;
  gc.operator_note = operators
                       ? "caf-web --operator: every user of this page is the "
                         "operator (a later release requires an operator "
                         "certificate)"
                       : "start caf-web with --operator to allow them";
  std::string error;
  auto console = web_console::start(sys, listen, std::move(gc), error);
  if (!console) {
    std::cerr << "caf-web: " << error << std::endl;
    return 1;
  }
  std::cerr << "cafchat: web console at " << console->url() << " for "
            << cfg.path << (operators ? " (operator controls on)" : "")
            << std::endl;
  while (!stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  console->stop();
  return 0;
}

} // namespace cafchat
