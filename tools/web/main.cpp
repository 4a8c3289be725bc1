// caf-web: the web console of a multi-process cluster, as one more client
// node (docs/web.md).
//
//   caf-web --config configs/cluster-3.ini --listen 127.0.0.1:8080 [--operator]
//
// It reaches the load balancer named by the config's [nodes] lb entry, each
// browser tab chats as a client of the cluster, and it subscribes to every
// server node's protocol events. --operator shows the operator controls to
// every user of the page (a later release will require an operator
// certificate instead). Exit codes: 0 after SIGINT/SIGTERM; 1 no load
// balancer, or the address cannot be listened on; 2 bad command line or
// configuration.

#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "cafchat_version.hpp" // generated: see CMakeLists.txt
#include "node/config.hpp"
#include "node/distributed.hpp"
#include "node/web_node.hpp"

using namespace cafchat;

namespace {

const char* usage =
  "usage: caf-web --config FILE [--listen ADDR:PORT] [--operator]\n"
  "               [--cert FILE --key FILE [--ca FILE]]\n"
  "       caf-web --version\n"
  "\n"
  "Serves the web console of the multi-process cafchat cluster that FILE\n"
  "describes (its [nodes] section names the load balancer and the servers)\n"
  "at http://ADDR:PORT/ (default: [web] listen, else 127.0.0.1:8080).\n"
  "--operator shows every user of the page the operator controls (kill,\n"
  "restart, faults); without it the page only chats and watches.\n";

std::atomic<bool> stop_requested{false};
extern "C" void on_stop(int) {
  stop_requested = true;
}

} // namespace

int main(int argc, char** argv) {
  std::string config, listen, cert, key, ca;
  bool operators = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    auto a = args[i];
    std::string val;
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&]() -> bool {
      if (eq == std::string::npos) {
        if (i + 1 >= args.size())
          return false;
        val = args[++i];
      }
      return !val.empty();
    };
    if (a == "-h" || a == "--help") {
      std::cout << usage;
      return 0;
    }
    if (a == "--version") {
      std::cout << "caf-web " CAFCHAT_VERSION " (git " CAFCHAT_GIT_COMMIT ")"
                << std::endl;
      return 0;
    }
    if (a == "--operator") {
      operators = true;
    } else if ((a == "--config" || a == "--listen") && value()) {
      (a == "--config" ? config : listen) = val;
    } else if ((a == "--cert" || a == "--key" || a == "--ca") && value()) {
      (a == "--cert" ? cert : a == "--key" ? key : ca) = val;
    } else {
      std::cerr << "caf-web: "
                << (a == "--config" || a == "--listen"
                      ? a + " needs a value"
                      : "unknown argument '" + args[i] + "'")
                << "\n\n" << usage;
      return 2;
    }
  }
  if (config.empty()) {
    std::cerr << "caf-web: --config FILE is required\n\n" << usage;
    return 2;
  }
  node_config cfg;
  web_endpoint ep;
  try {
    cfg = load_config(config);
    if (listen.empty())
      listen = cfg.web.listen.empty() ? "127.0.0.1:8080" : cfg.web.listen;
    ep = parse_web_endpoint(listen);
  } catch (config_error& e) {
    std::cerr << "caf-web: " << e.what() << std::endl;
    return 2;
  } catch (std::invalid_argument& e) {
    std::cerr << "caf-web: --listen: " << e.what() << std::endl;
    return 2;
  }
  if (!cfg.distributed()) {
    std::cerr << "caf-web: " << cfg.path << " has no [nodes] section: it runs "
              << "the whole cluster in one process; use caf-node --config "
              << cfg.path << " --web " << listen << " there" << std::endl;
    return 2;
  }
  if (auto why = resolve_tls(cfg, "web", cert, key, ca); !why.empty()) {
    std::cerr << "caf-web: " << why << std::endl;
    return 2;
  }
  caf::actor_system_config sys_cfg;
  try {
    configure_runtime(sys_cfg, cfg);
  } catch (std::exception& e) {
    std::cerr << "caf-web: " << e.what() << std::endl;
    return 1;
  }
  caf::actor_system sys{sys_cfg};
  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGPIPE, SIG_IGN);
  return run_web_node(sys, cfg, ep, operators,
                      CAFCHAT_VERSION " (git " CAFCHAT_GIT_COMMIT ")",
                      stop_requested);
}
