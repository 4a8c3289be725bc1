// Node ids bound to principals (actors/common/peer_auth.hpp): what the node
// guard records at each handshake and every actor asks.

#include <catch2/catch.hpp>

#include "caf/node_id.hpp"

#include "actors/common/peer_auth.hpp"

using namespace cafchat;

namespace {

caf::node_id node(uint32_t pid) {
  auto n = caf::make_node_id(pid, "0123456789012345678901234567890123456789");
  REQUIRE(n);
  return *n;
}

} // namespace

TEST_CASE("peer_auth: a node id is bound to one principal, for good") {
  auto me = node(1);
  auto a = node(4242);
  auto b = node(4243);
  set_peers_authenticated(true);
  CHECK(principal_of(a, me) == principal::unknown());
  CHECK(principal_of(me, me) == principal::local());
  CHECK(bind_node(a, principal::of_server(2)));
  CHECK(principal_of(a, me) == principal::of_server(2));
  // Again, by the same principal (a second connection): fine.
  CHECK(bind_node(a, principal::of_server(2)));
  // Another certificate claiming the same node id: refused, nothing changes.
  CHECK_FALSE(bind_node(a, principal::of_server(3)));
  CHECK_FALSE(bind_node(a, principal::client("mallory")));
  CHECK(principal_of(a, me) == principal::of_server(2));
  CHECK(bind_node(b, principal::client("alice")));
  CHECK(principal_of(b, me) == principal::client("alice"));
  // Without TLS, nobody is bound: every other node is unauthenticated.
  set_peers_authenticated(false);
  CHECK(principal_of(node(5000), me) == principal::unauthenticated());
  set_peers_authenticated(true);
  CHECK(principal_of(node(5000), me) == principal::unknown());
  set_peers_authenticated(false);
}
