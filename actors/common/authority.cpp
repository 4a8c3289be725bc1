#include "actors/common/authority.hpp"

#include <cstdlib>

namespace cafchat {

std::string principal::describe() const {
  switch (k) {
    case kind::local:
      return "local";
    case kind::server:
      return "server " + std::to_string(server);
    case kind::lb:
      return "lb";
    case kind::client:
      return "client " + name;
    case kind::op:
      return "operator " + name;
    case kind::unauthenticated:
      return "unauthenticated peer";
    case kind::unknown:
      break;
  }
  return "unknown peer";
}

namespace {

bool valid_cert_name(std::string_view n) {
  if (n.empty() || n.size() > 64)
    return false;
  for (unsigned char c : n)
    if (c < 0x20 || c == 0x7f || c == ':' || c == '/')
      return false;
  return true;
}

} // namespace

std::optional<principal> principal_from_uri(std::string_view uri) {
  constexpr std::string_view node = "cafchat:node:";
  constexpr std::string_view client = "cafchat:client:";
  constexpr std::string_view op = "cafchat:operator:";
  auto starts = [&](std::string_view p) {
    return uri.size() > p.size() && uri.substr(0, p.size()) == p;
  };
  if (starts(node)) {
    auto rest = uri.substr(node.size());
    if (rest == "lb")
      return principal::load_balancer();
    if (rest.size() > 9 || rest[0] == '0')
      return std::nullopt;
    uint64_t id = 0;
    for (char c : rest) {
      if (c < '0' || c > '9')
        return std::nullopt;
      id = id * 10 + static_cast<uint64_t>(c - '0');
    }
    if (id == 0 || id > 0xffffffffu)
      return std::nullopt;
    return principal::of_server(static_cast<server_id>(id));
  }
  if (starts(client) && valid_cert_name(uri.substr(client.size())))
    return principal::client(std::string{uri.substr(client.size())});
  if (starts(op) && valid_cert_name(uri.substr(op.size())))
    return principal::operator_(std::string{uri.substr(op.size())});
  return std::nullopt;
}

std::string principal_uri(const principal& p) {
  switch (p.k) {
    case principal::kind::server:
      return "cafchat:node:" + std::to_string(p.server);
    case principal::kind::lb:
      return "cafchat:node:lb";
    case principal::kind::client:
      return "cafchat:client:" + p.name;
    case principal::kind::op:
      return "cafchat:operator:" + p.name;
    default:
      return {};
  }
}

std::string_view to_string(msg_class c) {
  switch (c) {
    case msg_class::peer:
      return "peer message";
    case msg_class::register_server:
      return "register_server";
    case msg_class::from_lb:
      return "load balancer control";
    case msg_class::local_only:
      return "local message";
    case msg_class::operator_action:
      return "operator action";
    case msg_class::client_request:
      return "client request";
    case msg_class::observe:
      return "event subscription";
  }
  return "?";
}

bool permitted(const principal& who, msg_class c, server_id claimed) {
  using k = principal::kind;
  // This process, and a plaintext cluster (where nobody is authenticated:
  // docs/security.md says what that means), may do anything.
  if (who.k == k::local || who.k == k::unauthenticated)
    return true;
  if (who.k == k::unknown)
    return false;
  switch (c) {
    case msg_class::peer:
      // claimed 0: a message that names no sender (a decide): any server.
      return who.k == k::server && (claimed == 0 || who.server == claimed);
    case msg_class::register_server:
      return who.k == k::server && who.server == claimed && claimed != 0;
    case msg_class::from_lb:
      return who.k == k::lb;
    case msg_class::local_only:
      return false;
    case msg_class::operator_action:
      return who.k == k::op;
    case msg_class::client_request:
      return true;
    case msg_class::observe:
      return who.k == k::op || who.k == k::lb;
  }
  return false;
}

std::string assigned_server_problem(const principal& who, server_id assigned,
                                    bool front_there) {
  if (who.k == principal::kind::unauthenticated)
    return {};
  if (who != principal::of_server(assigned))
    return "its certificate is that of " + who.describe();
  if (!front_there)
    return "the load balancer's handle for it lives in another process";
  return {};
}

} // namespace cafchat
