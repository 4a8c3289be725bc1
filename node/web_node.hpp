#pragma once

// The web console in the programs (docs/web.md): beside a one-process
// cluster in caf-node, and as caf-web, a client node of a multi-process
// cluster. Kept apart from node/main.cpp so that the programs only call in.

#include <atomic>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"

#include "actors/common/event_log.hpp"
#include "actors/web/event_tap.hpp"
#include "actors/web/web_console.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"

namespace cafchat {

/// caf-node's console: the event tap every log of the cluster writes to
/// (made before the cluster starts), its feed, and then the console.
struct local_web {
  std::string listen; ///< Empty: no console.
  std::shared_ptr<event_tap> tap;
  caf::actor feed;
  std::unique_ptr<web_console> console;

  /// What the cluster's logs write to besides their files (empty if off).
  log_tee tee() const;
  /// Starts serving for cluster `c`; prints the URL on stderr. False (with
  /// the reason on stderr) if it cannot listen.
  bool start(caf::actor_system& sys, const node_config& cfg, const cluster& c,
             const std::string& version);
  void stop();
};

/// Sets up what a console at `listen` ("" for none) needs before the
/// cluster starts.
local_web prepare_local_web(caf::actor_system& sys, const std::string& listen);

/// caf-web: serves the console at `listen` for the multi-process cluster of
/// `cfg`, as one more client node, until `stop`; returns the exit code.
int run_web_node(caf::actor_system& sys, const node_config& cfg,
                 const web_endpoint& listen, bool operators,
                 const std::string& version, const std::atomic<bool>& stop);

} // namespace cafchat
