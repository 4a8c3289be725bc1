#pragma once

// The one path between peers. Every role sends to other servers through its
// peer_links: with the network-fault simulator off, a message goes straight
// to the peer's actor; with it on, it goes to the simulator wrapped in
// `routed`, and the simulator decides when, whether and how often it
// arrives. Roles never hold peer handles of their own, so turning the
// simulator on changes no protocol code (the seam of tigerbeetle's
// packet_simulator and etcd's raft_test network).
//
// A server talks to itself (proposer to its own acceptor) directly: that
// traffic never crosses a network, so the simulator does not see it.

#include <map>

#include "caf/actor.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/message.hpp"

#include "actors/common/outgoing.hpp"
#include "messages/control.hpp"

namespace cafchat {

/// Which role receives a message of this type (its peer_traits).
role receiver_of(const paxos_message& msg);

class peer_links {
public:
  peer_links() = default;
  explicit peer_links(server_id self, caf::actor simulator = caf::actor{})
    : self_(self), sim_(std::move(simulator)) {}

  /// Installs or replaces a server's handles; an older incarnation never
  /// replaces a newer one.
  void update(const server_info& info);
  void set_simulator(caf::actor sim) { sim_ = std::move(sim); }

  /// The peer's actor for `r`, or an invalid handle if unknown.
  caf::actor lookup(server_id id, role r) const;

  /// Sends one core output (expanding all_servers to every known server).
  /// The output is moved into one message shared by every receiver.
  void send(caf::event_based_actor* self, outgoing out) const;
  /// Sends `msg` to role `r` of server `to` (all_servers: every server).
  void send(caf::event_based_actor* self, server_id to, role r,
            const caf::message& msg) const;

  server_id self_id() const { return self_; }

  /// How many other servers this table can address.
  uint32_t known_peers() const {
    return static_cast<uint32_t>(peers_.size() - peers_.count(self_));
  }

private:
  void send_one(caf::event_based_actor* self, server_id to,
                const caf::actor& dest, const caf::message& msg) const;

  struct entry {
    uint64_t incarnation = 0;
    caf::actor acceptor;
    caf::actor proposer;
    caf::actor learner;
  };
  server_id self_ = 0;
  caf::actor sim_;
  std::map<server_id, entry> peers_;
};

} // namespace cafchat
