#pragma once

// Atoms for small internal and operator messages. CAF 0.17 limits an atom to
// 10 characters.

#include "caf/atom.hpp"

namespace cafchat {

/// A role's periodic timer: the core counts ticks, never the wall clock.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// The acceptor syncs its buffered writes, then sends the buffered replies.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Ask an actor for its status (`server_status` or `cluster_view`).
using status_atom = caf::atom_constant<caf::atom("status")>;
/// A session unsubscribes from its learner.
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;
/// Peer table update: a server_info for a (re)started peer.
using peer_atom = caf::atom_constant<caf::atom("peer")>;
/// Operator: make the leader skip one slot.
using skip_atom = caf::atom_constant<caf::atom("skip")>;
/// Start an election now (tests, and a proposer told to lead).
using campaign_atom = caf::atom_constant<caf::atom("campaign")>;
/// One-process wiring: these are your peer hosts.
using hosts_atom = caf::atom_constant<caf::atom("hosts")>;
/// Client: how many of your commands are not yet acknowledged?
using pending_atom = caf::atom_constant<caf::atom("pending")>;
/// Client: send this text as a chat message.
using say_atom = caf::atom_constant<caf::atom("say")>;
/// Server front: describe yourself (answers a server_info).
using info_atom = caf::atom_constant<caf::atom("info")>;
/// Host: this is (now) the load balancer. Load balancer: which simulator?
using lb_atom = caf::atom_constant<caf::atom("lb")>;
/// Roles: route peer messages through this simulator (or directly).
using sim_atom = caf::atom_constant<caf::atom("sim")>;
/// Client-side retry timer.
using retry_atom = caf::atom_constant<caf::atom("retry")>;

} // namespace cafchat
