#pragma once

// Who may send what (docs/security.md). A message that arrives from another
// process carries the CAF node of its sender; the node guard
// (node/net_guard.cpp) binds every node to the principal its TLS certificate
// names (`cafchat:node:N`, `cafchat:node:lb`, `cafchat:client:NAME`,
// `cafchat:operator:NAME`). Every receiving actor asks `permitted` before it
// acts on a message, and logs what it refuses (actors/common/peer_auth.hpp).
//
// This header is the pure rule set, without CAF: tests/core/authority_test.cpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/paxos.hpp"

namespace cafchat {

struct principal {
  enum class kind : uint8_t {
    local,           ///< An actor of this very process.
    server,          ///< A server node; `server` is its id.
    lb,              ///< The load balancer node (and its simulator).
    client,          ///< A chat client; `name` is its certificate's name.
    op,              ///< An operator (may also chat); `name` as for client.
    unauthenticated, ///< A peer of a plaintext cluster: nobody checked it.
    unknown,         ///< TLS is on, but nothing bound this node: refused.
  };
  kind k = kind::unknown;
  server_id server = 0;
  std::string name;

  static principal local() { return {kind::local, 0, {}}; }
  static principal of_server(server_id id) { return {kind::server, id, {}}; }
  static principal load_balancer() { return {kind::lb, 0, {}}; }
  static principal client(std::string n) { return {kind::client, 0, std::move(n)}; }
  static principal operator_(std::string n) { return {kind::op, 0, std::move(n)}; }
  static principal unauthenticated() { return {kind::unauthenticated, 0, {}}; }
  static principal unknown() { return {kind::unknown, 0, {}}; }

  /// "server 2", "lb", "client alice", "operator carol", "local", ...
  std::string describe() const;
  /// Whether this principal chats (client or operator): the name to use.
  bool chats() const { return k == kind::client || k == kind::op; }

  friend bool operator==(const principal& a, const principal& b) {
    return a.k == b.k && a.server == b.server && a.name == b.name;
  }
  friend bool operator!=(const principal& a, const principal& b) {
    return !(a == b);
  }
};

/// The principal a certificate's SAN URI names: "cafchat:node:3",
/// "cafchat:node:lb", "cafchat:client:alice", "cafchat:operator:carol";
/// nullopt for anything else (a name must be 1..64 bytes without control
/// characters, ':' or '/').
std::optional<principal> principal_from_uri(std::string_view uri);

/// The URI gen-certs writes for `p` (inverse of principal_from_uri).
std::string principal_uri(const principal& p);

/// What a message asks for, as far as authorisation goes.
enum class msg_class : uint8_t {
  /// A Paxos peer message, or anything else one server's roles send another
  /// (server_info announcements, `routed` to the simulator): only from the
  /// server it claims to come from. `claimed` is that id (0: the message
  /// names no sender, e.g. a decide: any server).
  peer,
  /// A server announcing itself to the load balancer (register_server):
  /// only from the server node it names (`claimed`).
  register_server,
  /// Sent by the load balancer to a server (operator commands it relays,
  /// server status polls): only from the lb node.
  from_lb,
  /// Inside one process only (timers, the connector, a host to its roles).
  local_only,
  /// An operator action (/kill, /restart, /wipe, /skip-slot, /faults):
  /// only from an operator (or this process, or a plaintext cluster).
  operator_action,
  /// A chat client's request (hello, assignment, history, status): anyone
  /// authenticated.
  client_request,
  /// Watching a node's protocol events (the web console): operators, the lb.
  observe,
};

std::string_view to_string(msg_class c);

/// Whether `who` may send a message of class `c` (claiming server `claimed`
/// for peer and register_server).
bool permitted(const principal& who, msg_class c, server_id claimed = 0);

/// What a client makes of the process at the address the load balancer
/// gave for server `assigned`: `who` is that process's principal (its
/// certificate), `front_there` whether the front handle it was given lives
/// in that process. "" when it is that server (or nobody is authenticated:
/// plaintext), otherwise why not, for the user.
std::string assigned_server_problem(const principal& who, server_id assigned,
                                    bool front_there);

} // namespace cafchat
