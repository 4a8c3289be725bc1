#pragma once

// The web gateway: the actor behind the web console. Each browser tab's
// WebSocket connection (web_server.hpp) becomes one chat client, a
// client_actor exactly like the shell's (so reroute, resume and
// exactly-once come with it), whose listener writes to that tab. The
// gateway also
//
//  * polls the load balancer (cluster_view) and the simulator (sim_report)
//    every `poll_ms` and pushes the cluster to every tab when it changed;
//  * subscribes to the event feeds (event_feed.hpp): the process's own, or,
//    for caf-web, every server node's (through its host), and pushes the
//    protocol events it gets to every tab, `poll_ms` apart;
//  * runs operator commands (operator_command to the balancer, sim_control
//    to the simulator) for tabs that may (is_operator below).
//
// civetweb's threads never touch the gateway's state: they send it
// (ws_open, id), (ws_msg, id, text) and (ws_close, id) (web_console.cpp).

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/io/middleman_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/web/web_server.hpp"
#include "messages/control.hpp"
#include "actors/web/web_settings.hpp"

namespace cafchat {

using ws_open_atom = caf::atom_constant<caf::atom("ws_open")>;
using ws_msg_atom = caf::atom_constant<caf::atom("ws_msg")>;
using ws_close_atom = caf::atom_constant<caf::atom("ws_close")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;

/// The open connections, by id: civetweb's threads add and remove them,
/// the gateway looks them up.
class ws_registry {
public:
  void add(const std::shared_ptr<ws_socket>& s);
  void remove(uint64_t id);
  std::shared_ptr<ws_socket> find(uint64_t id) const;

private:
  mutable std::mutex mtx_;
  std::map<uint64_t, std::shared_ptr<ws_socket>> sockets_;
};

struct gateway_config {
  caf::actor load_balancer;
  caf::actor simulator;  ///< Invalid: asked from the balancer (sim_atom).
  caf::actor local_feed; ///< This process's event feed (one-process cluster).
  /// caf-web: the server nodes (host, port) whose feeds to subscribe to.
  std::vector<std::pair<std::string, uint16_t>> server_nodes;
  /// caf-web: to reach server nodes and let clients connect to servers.
  caf::io::middleman_actor middleman;
  std::shared_ptr<ws_registry> sockets;
  web_settings limits;
  /// Whether the page's users are operators (see is_operator).
  bool operators = false;
  std::string operator_note; ///< Why (not), shown on the page.
  uint32_t poll_ms = 250;
  uint32_t client_retry_ms = 1000;
  uint32_t connect_timeout_ms = 2000;
  uint32_t max_text_bytes = 4096;
  std::string program = "caf-node";
  std::string version;
};

/// The one place that decides who may use the operator controls. For now:
/// every tab of a console that was started as an operator's (caf-node's
/// console on loopback, the one-process demo's local user; caf-web
/// --operator). The security issue will replace this with the operator
/// certificate the browser presents.
bool is_operator(const gateway_config& cfg, const ws_socket& socket);

struct gateway_state {
  static inline const char* name = "web_gateway";
  struct conn {
    std::shared_ptr<ws_socket> socket;
    caf::actor client; ///< After hello.
    uint64_t client_id = 0;
    bool op = false;
  };
  std::map<uint64_t, conn> conns;
  bool polling = false;
  bool subscribed = false; ///< To the event feeds: while a tab is open.
  bool resubscribing = false; ///< caf-web's periodic subscription runs.
  std::string last_cluster;  ///< JSON last pushed.
  caf::actor simulator;
  /// The latest history size, for the listeners' progress notices.
  std::shared_ptr<std::atomic<uint64_t>> history;
  // Events since the last push, and the recent ones for a new tab.
  std::vector<std::string> pending_events;
  uint32_t stride = 1;
  uint64_t seen = 0;
  uint64_t dropped = 0;
  std::deque<std::string> recent_events;
};

caf::behavior gateway_actor(caf::stateful_actor<gateway_state>* self,
                            gateway_config cfg);

} // namespace cafchat
