#pragma once

// The principal behind a message's sender, and the check every receiving
// actor makes before it acts (the rules: actors/common/authority.hpp).
//
// The node guard (node/net_guard.cpp) binds each CAF node that connects to
// this process to the principal its certificate names, before the node can
// send anything; actors ask `sender_principal` for the node of
// `current_sender()`. Without TLS every other node is `unauthenticated` (and
// so may do anything: docs/security.md); with TLS a node nobody bound is
// `unknown` and refused.

#include <memory>
#include <string>

#include "caf/node_id.hpp"
#include "caf/scheduled_actor.hpp"

#include "actors/common/authority.hpp"

namespace cafchat {

class event_log;

/// Process-wide: whether peers are authenticated (TLS on). Set once at start.
void set_peers_authenticated(bool on);
bool peers_authenticated();

/// Binds `node` to `who`; false (and nothing changes) if `node` is already
/// bound to someone else: a node id is never handed from one principal to
/// another.
bool bind_node(const caf::node_id& node, const principal& who);

/// The principal of `node` as this process sees it.
principal principal_of(const caf::node_id& node, const caf::node_id& self_node);

/// The principal of the sender of the message `self` handles now. A message
/// without sender counts as local: the node guard refuses anonymous messages
/// from other processes.
principal sender_principal(caf::scheduled_actor* self);

/// Where refusals are logged ("refused" events); the server id names this
/// node in them (0 for the load balancer). Set once at start; without it
/// refusals go to stderr only.
void set_refusal_log(std::shared_ptr<event_log> log, uint32_t node);

/// Logs a refusal: who tried what. Bounded: at most 20 lines a second per
/// process (the rest are counted and reported with the next line).
void log_refusal(const principal& who, std::string_view what,
                 std::string_view detail = {});

/// Whether the current message's sender may send a message of class `c`
/// (claiming server `claimed`); logs the refusal otherwise. `what` names
/// the message in the log ("prepare", "register_server", ...).
bool admit(caf::scheduled_actor* self, msg_class c, std::string_view what,
           server_id claimed = 0);

} // namespace cafchat
