// caf-node: starts a whole cafchat cluster in this process (with a chat
// shell), or one node of a multi-process cluster.
//
//   caf-node --config configs/single-host.ini [--name NAME] [--output jsonl]
//            [--drain-timeout S] [--no-history] [--no-shell] [--web ADDR:PORT]
//   caf-node --version     # the version and the git commit of the build
//
// Exit codes: 0 ok; 1 the shell could not deliver every message before the
// drain timeout; 2 bad command line or configuration.

#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <csignal>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"

#include "cafchat_version.hpp" // generated: see CMakeLists.txt
#include "messages/registry.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"
#include "node/options.hpp"
#include "node/web_node.hpp"
#include "actors/shell/shell.hpp"

using namespace cafchat;

namespace {

const char* usage =
  "usage: caf-node --config FILE [--name NAME] [--output jsonl|text]\n"
  "                [--drain-timeout SECONDS] [--no-history] [--no-shell]\n"
  "                [--web ADDR:PORT]\n"
  "       caf-node --config FILE --node ID [--bootstrap]\n"
  "                [--cert FILE --key FILE --ca FILE]\n"
  "       caf-node --version\n"
  "\n"
  "Starts the cafchat cluster that FILE describes in this process and opens a\n"
  "chat shell (interactive on a terminal; one message per input line\n"
  "otherwise). See configs/single-host.ini for every configuration key.\n"
  "With --node it runs one node of a multi-process cluster; --bootstrap on\n"
  "the very first start of a brand-new cluster lets a server with new\n"
  "storage vote at once (docs/operations.md).\n"
  "--web ADDR:PORT (or [web] listen) also serves the web console there, e.g.\n"
  "--web 127.0.0.1:8080 (docs/web.md).\n";

std::atomic<bool> stop_requested{false};
extern "C" void on_stop(int) {
  stop_requested = true;
}

} // namespace

int main(int argc, char** argv) {
  int rc = 0;
  auto start = start_program(argc, argv, "caf-node", usage, true, rc,
                             CAFCHAT_VERSION " (git " CAFCHAT_GIT_COMMIT ")");
  if (!start)
    return rc;
  auto& [cli, cfg] = *start;
  if (cfg.distributed() && cli.node.empty()) {
    std::cerr << "caf-node: " << cfg.path
              << " describes a multi-process cluster; start one node with "
                 "--node <id>, or all of them with tools/launch"
              << std::endl;
    return 2;
  }
  if (cli.bootstrap && cli.node.empty()) {
    std::cerr << "caf-node: --bootstrap goes with --node; a cluster in one "
                 "process sees all of its disks and bootstraps by itself"
              << std::endl;
    return 2;
  }
  if (!cfg.distributed() && !cli.node.empty()) {
    std::cerr << "caf-node: --node needs a config with a [nodes] section; "
              << cfg.path << " runs the whole cluster in one process"
              << std::endl;
    return 2;
  }
  if (cfg.distributed() && !cli.web.empty()) {
    std::cerr << "caf-node: --web serves a one-process cluster; for a "
                 "multi-process cluster run caf-web --config "
              << cfg.path << " --listen ADDR:PORT" << std::endl;
    return 2;
  }
  if (cfg.distributed()) {
    if (auto why = resolve_tls(cfg, cli.node, cli.cert, cli.key, cli.ca);
        !why.empty()) {
      std::cerr << "caf-node: " << why << std::endl;
      return 2;
    }
  } else if (!cli.cert.empty() || !cli.key.empty() || !cli.ca.empty()) {
    std::cerr << "caf-node: --cert, --key and --ca are for a multi-process "
                 "cluster; " << cfg.path << " runs in one process" << std::endl;
    return 2;
  }
  caf::actor_system_config sys_cfg;
  try {
    configure_runtime(sys_cfg, cfg);
  } catch (std::exception& e) {
    std::cerr << "caf-node: " << e.what() << std::endl;
    return 1;
  }
  caf::actor_system sys{sys_cfg};
  if (cfg.distributed()) {
    std::signal(SIGINT, on_stop);
    std::signal(SIGTERM, on_stop);
    std::signal(SIGPIPE, SIG_IGN);
    return run_node(sys, cfg, cli.node, cli.bootstrap, stop_requested);
  }
  // The web console (docs/web.md): its tap must see the cluster's first event.
  auto web = prepare_local_web(sys, cli.web.empty() ? cfg.web.listen : cli.web);
  cluster c;
  try {
    c = start_local_cluster(sys, cfg, web.tee());
  } catch (std::exception& e) {
    std::cerr << "caf-node: " << e.what() << std::endl;
    web.stop();
    return 2;
  }
  if (!web.start(sys, cfg, c, CAFCHAT_VERSION " (git " CAFCHAT_GIT_COMMIT ")")) {
    web.stop();
    c.stop();
    return 1;
  }
  std::cerr << "cafchat: " << cfg.servers.size() << " servers (f = " << cfg.f
            << "), load balancer" << (cfg.sim.enabled ? ", simulator" : "")
            << " running in this process; storage: " << cfg.storage;
  if (!cfg.events.empty())
    std::cerr << "; event logs: " << node_config::expand(cfg.events, "*");
  std::cerr << std::endl;
  if (!c.bootstrapped)
    for (auto& [id, s] : c.storage)
      if (s.fresh)
        std::cerr << "cafchat: server " << id << ": its storage is new while "
                  << "others hold state, so it rejoins before it votes"
                  << std::endl;
  if (cli.no_shell) {
    std::signal(SIGINT, on_stop);
    std::signal(SIGTERM, on_stop);
    while (!stop_requested)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } else {
    rc = run_shell(sys, c.load_balancer, make_shell_options(cli, cfg));
  }
  web.stop();
  c.stop();
  return rc;
}
