#pragma once

// What a protocol core asks its actor to do, as data: the same shape for all
// three roles (etcd raft's Ready). One input gives one `core_output`: writes
// that must be durable first, then messages to send, and notes for the
// event log. The actor persists the writes, then sends every `outgoing` on
// its peer links (see peer_links.hpp and actors/common/core_step.hpp).
//
// The message type names the receiving role: prepare and accept (and the
// rejoin messages state_query/state_reply, rejoin_prepare/rejoin_reply) go
// to acceptors; promise, accepted, nack, heartbeat*, prevote* and forward go
// to proposers; decide, learn and catchup* go to learners. A role talks to
// its own server's other roles the same way, addressed to its own server id
// (messages/local.hpp): learned_for_proposer, learned_for_acceptor,
// chosen_hint and joined.

#include <variant>
#include <vector>

#include "messages/local.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

template <class... Lists>
struct variant_of;

template <class... Ts, class... Us>
struct variant_of<type_list<Ts...>, type_list<Us...>> {
  using type = std::variant<Ts..., Us...>;
};

/// Any core output: one alternative per entry of `peer_messages`, then of
/// `local_messages` (between the roles of one server).
using paxos_message = variant_of<peer_messages, local_messages>::type;

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

/// The result of one input to a core: make `writes` durable, then send
/// `send` in order; `notes` are for the event log. `Writes` is the role's
/// own (it has `empty()`).
template <class Writes>
struct core_output {
  Writes writes;
  std::vector<outgoing> send;
  std::vector<core_note> notes;
};

} // namespace cafchat
