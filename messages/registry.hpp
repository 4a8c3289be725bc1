#pragma once

// The ONE place where message types are announced to CAF. Every node, tool
// and test calls `add_message_types` on its config: a type that one side
// forgot arrives at the other as an empty message, silently.

#include <string>

#include "messages/paxos.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace cafchat {

void add_message_types(caf::actor_system_config& cfg);

/// The name CAF knows a peer message by, on every node: "cafchat::prepare".
template <class T>
std::string peer_type_name() {
  return "cafchat::" + std::string{peer_traits<T>::name};
}

} // namespace cafchat
