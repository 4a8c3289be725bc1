#include "actors/common/peer_links.hpp"

#include "caf/send.hpp"

namespace cafchat {

namespace {

struct receiver_visitor {
  role operator()(const prepare&) const { return role::acceptor; }
  role operator()(const accept&) const { return role::acceptor; }
  role operator()(const state_query&) const { return role::acceptor; }
  role operator()(const state_reply&) const { return role::acceptor; }
  role operator()(const rejoin_prepare&) const { return role::acceptor; }
  role operator()(const rejoin_reply&) const { return role::acceptor; }
  role operator()(const learned_for_acceptor&) const { return role::acceptor; }
  role operator()(const decide&) const { return role::learner; }
  role operator()(const learn&) const { return role::learner; }
  role operator()(const catchup_request&) const { return role::learner; }
  role operator()(const catchup_reply&) const { return role::learner; }
  role operator()(const chosen_hint&) const { return role::learner; }
  template <class T>
  role operator()(const T&) const {
    return role::proposer;
  }
};

} // namespace

role receiver_of(const paxos_message& msg) {
  return std::visit(receiver_visitor{}, msg);
}

void peer_links::update(const server_info& info) {
  auto& e = peers_[info.id];
  if (info.incarnation < e.incarnation)
    return;
  e.incarnation = info.incarnation;
  e.acceptor = info.acceptor;
  e.proposer = info.proposer;
  e.learner = info.learner;
}

caf::actor peer_links::lookup(server_id id, role r) const {
  auto i = peers_.find(id);
  if (i == peers_.end())
    return {};
  switch (r) {
    case role::acceptor:
      return i->second.acceptor;
    case role::proposer:
      return i->second.proposer;
    case role::learner:
      return i->second.learner;
  }
  return {};
}

void peer_links::send(caf::event_based_actor* self, outgoing out) const {
  auto r = receiver_of(out.msg);
  auto msg = std::visit([](auto& x) { return caf::make_message(std::move(x)); },
                        out.msg);
  send(self, out.to, r, msg);
}

void peer_links::send(caf::event_based_actor* self, server_id to, role r,
                      const caf::message& msg) const {
  if (to != all_servers) {
    send_one(self, to, lookup(to, r), msg);
    return;
  }
  for (auto& [id, e] : peers_)
    send_one(self, id, lookup(id, r), msg);
}

void peer_links::send_one(caf::event_based_actor* self, server_id to,
                          const caf::actor& dest,
                          const caf::message& msg) const {
  if (!dest)
    return; // unknown or not yet announced: like a message lost in transit
  if (!sim_ || to == self_) {
    self->send(dest, msg);
    return;
  }
  self->send(sim_, routed{self_, to, dest, msg});
}

} // namespace cafchat
