// caf-chat: the chat shell as its own process, for a multi-process cluster.
//
//   caf-chat --config configs/cluster-3.ini [--name NAME] [--output jsonl]
//            [--drain-timeout SECONDS] [--no-history]
//   caf-chat --config configs/cluster-3.ini --history [FROM] [--output jsonl]
//
// It reaches the load balancer named by the config's [nodes] lb entry over
// the network, then talks to its assigned server directly. Same commands,
// same JSON-lines contract and the same drain-then-exit behaviour as the
// shell of caf-node. Exit codes: 0 ok; 1 unacknowledged messages after the
// drain timeout, or a history that stopped arriving, or no load balancer; 2
// bad command line or configuration.

#include <chrono>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"

#include "cafchat_version.hpp" // generated: see CMakeLists.txt
#include "messages/registry.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"
#include "node/options.hpp"
#include "actors/shell/shell.hpp"

using namespace cafchat;

namespace {

const char* usage =
  "usage: caf-chat --config FILE [--name NAME] [--output jsonl|text]\n"
  "                [--drain-timeout SECONDS] [--no-history]\n"
  "                [--cert FILE --key FILE [--ca FILE]]\n"
  "       caf-chat --config FILE --history [FROM] [--output jsonl|text]\n"
  "       caf-chat --version\n"
  "\n"
  "Chats with the multi-process cafchat cluster that FILE describes (its\n"
  "[nodes] section names the load balancer). Interactive on a terminal; one\n"
  "message per input line otherwise. At the end of input it waits for its\n"
  "messages to be delivered and for the history as it was when it joined\n"
  "(--no-history: for its messages only). --history writes the history\n"
  "(from index FROM on) and exits.\n"
  "In a cluster with a [tls] section, --cert and --key give this client's\n"
  "certificate (tools/gen-certs --client NAME or --operator NAME); the name\n"
  "it chats under is the one in the certificate.\n";

} // namespace

int main(int argc, char** argv) {
  int rc = 0;
  auto start = start_program(argc, argv, "caf-chat", usage, false, rc,
                             CAFCHAT_VERSION " (git " CAFCHAT_GIT_COMMIT ")");
  if (!start)
    return rc;
  auto& [cli, cfg] = *start;
  if (!cfg.distributed()) {
    std::cerr << "caf-chat: " << cfg.path << " has no [nodes] section: it runs "
              << "the whole cluster in one process; chat with caf-node there"
              << std::endl;
    return 2;
  }
  if (auto why = resolve_tls(cfg, "client", cli.cert, cli.key, cli.ca);
      !why.empty()) {
    std::cerr << "caf-chat: " << why << std::endl;
    return 2;
  }
  caf::actor_system_config sys_cfg;
  try {
    configure_runtime(sys_cfg, cfg);
  } catch (std::exception& e) {
    std::cerr << "caf-chat: " << e.what() << std::endl;
    return 1;
  }
  caf::actor_system sys{sys_cfg};
  auto& lb_ep = cfg.nodes.at("lb");
  // Blocking connects are fine here, on the main thread; give the cluster
  // some time to come up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  caf::actor lb;
  bool told = false;
  for (;;) {
    auto x = connect_to(sys, lb_ep.host, lb_ep.port,
                        principal::load_balancer());
    if (x) {
      lb = *x;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline
        || is_wrong_peer(x.error())) {
      std::cerr << "caf-chat: no load balancer at " << lb_ep.host << ":"
                << lb_ep.port << ": " << sys.render(x.error()) << std::endl;
      return 1;
    }
    if (!told) {
      std::cerr << "caf-chat: waiting for the load balancer at " << lb_ep.host
                << ":" << lb_ep.port << " ..." << std::endl;
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto so = make_shell_options(cli, cfg);
  so.middleman = network_handle(sys);
  return run_shell(sys, lb, so);
}
