#pragma once

// What a protocol core asks its actor to send. Cores return outputs as data;
// the actor turns each `outgoing` into a message on the peer links (see
// peer_links.hpp). The message type names the receiving role: prepare and
// accept (and the rejoin messages state_query/state_reply, rejoin_prepare/
// rejoin_reply) go to acceptors; promise, accepted, nack, heartbeat*,
// prevote* and forward go to proposers; decide, learn and catchup* go to
// learners.

#include <variant>
#include <vector>

#include "messages/paxos.hpp"

namespace cafchat {

using paxos_message
  = std::variant<prepare, promise, accept, accepted, nack, decide, learn,
                 heartbeat, heartbeat_reply, prevote_request, prevote_reply,
                 forward, catchup_request, catchup_reply, state_query,
                 state_reply, rejoin_prepare, rejoin_reply>;

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
