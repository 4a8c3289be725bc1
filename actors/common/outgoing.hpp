#pragma once

// What a protocol core asks its actor to send. Cores return outputs as data;
// the actor turns each `outgoing` into a message on the peer links (see
// peer_links.hpp). The message type names the receiving role, in its
// peer_traits (messages/paxos.hpp).

#include <variant>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

template <class List>
struct variant_of;

template <class... Ts>
struct variant_of<type_list<Ts...>> {
  using type = std::variant<Ts...>;
};

/// Any peer message: one alternative per entry of `peer_messages`.
using paxos_message = variant_of<peer_messages>::type;

/// Every server, used as `outgoing::to`.
constexpr server_id all_servers = 0;

struct outgoing {
  server_id to = all_servers; ///< A server id, or all_servers (self included).
  paxos_message msg;
};

/// Something worth an event-log line that the actor cannot see from the
/// messages alone (a role change, a hole filled, commands dropped).
struct core_note {
  const char* what = "";
  uint64_t slot = 0;
  ballot bal;
  uint64_t count = 0;
  const char* why = nullptr; ///< A reason in words, if the event has one.
};

} // namespace cafchat
