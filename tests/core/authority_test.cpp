// Who may send what: the rules of actors/common/authority.hpp.

#include <catch2/catch.hpp>

#include "actors/common/authority.hpp"

using namespace cafchat;

TEST_CASE("authority: certificate URIs name principals") {
  CHECK(principal_from_uri("cafchat:node:3") == principal::of_server(3));
  CHECK(principal_from_uri("cafchat:node:lb") == principal::load_balancer());
  CHECK(principal_from_uri("cafchat:client:alice") == principal::client("alice"));
  CHECK(principal_from_uri("cafchat:operator:carol")
        == principal::operator_("carol"));
  for (auto bad : {"", "cafchat:node:", "cafchat:node:0", "cafchat:node:03",
                   "cafchat:node:x", "cafchat:node:-1", "cafchat:node:99999999999",
                   "cafchat:client:", "cafchat:client:a:b", "cafchat:client:a/b",
                   "cafchat:client:a\nb", "cafchat:admin:x", "https://example.org",
                   "cafchat:node:1 "})
    CHECK_FALSE(principal_from_uri(bad));
  CHECK_FALSE(principal_from_uri("cafchat:client:" + std::string(65, 'a')));
  CHECK(principal_from_uri("cafchat:client:" + std::string(64, 'a')));
  for (auto p : {principal::of_server(7), principal::load_balancer(),
                 principal::client("bob"), principal::operator_("eve")})
    CHECK(principal_from_uri(principal_uri(p)) == p);
}

TEST_CASE("authority: a peer message only from the server it names") {
  auto s2 = principal::of_server(2);
  CHECK(permitted(s2, msg_class::peer, 2));
  CHECK_FALSE(permitted(s2, msg_class::peer, 1));
  CHECK(permitted(s2, msg_class::peer, 0)); // a decide names no sender
  CHECK(permitted(s2, msg_class::register_server, 2));
  CHECK_FALSE(permitted(s2, msg_class::register_server, 3));
  CHECK_FALSE(permitted(s2, msg_class::register_server, 0));
  for (auto p : {principal::client("mallory"), principal::operator_("carol"),
                 principal::load_balancer(), principal::unknown()}) {
    INFO(p.describe());
    CHECK_FALSE(permitted(p, msg_class::peer, 1));
    CHECK_FALSE(permitted(p, msg_class::peer, 0));
    CHECK_FALSE(permitted(p, msg_class::register_server, 1));
  }
}

TEST_CASE("authority: control from the load balancer, actions from operators") {
  CHECK(permitted(principal::load_balancer(), msg_class::from_lb));
  CHECK_FALSE(permitted(principal::of_server(1), msg_class::from_lb));
  CHECK_FALSE(permitted(principal::client("a"), msg_class::from_lb));
  CHECK_FALSE(permitted(principal::operator_("a"), msg_class::from_lb));
  CHECK(permitted(principal::operator_("carol"), msg_class::operator_action));
  CHECK_FALSE(permitted(principal::client("alice"), msg_class::operator_action));
  CHECK_FALSE(permitted(principal::of_server(1), msg_class::operator_action));
  CHECK_FALSE(permitted(principal::load_balancer(), msg_class::operator_action));
  CHECK(permitted(principal::operator_("carol"), msg_class::observe));
  CHECK_FALSE(permitted(principal::client("alice"), msg_class::observe));
}

TEST_CASE("authority: local-only messages stay in the process") {
  for (auto p : {principal::of_server(1), principal::load_balancer(),
                 principal::client("a"), principal::operator_("o"),
                 principal::unknown()})
    CHECK_FALSE(permitted(p, msg_class::local_only));
  CHECK(permitted(principal::local(), msg_class::local_only));
}

TEST_CASE("authority: clients ask what clients ask, unknown nodes nothing") {
  for (auto p : {principal::of_server(1), principal::load_balancer(),
                 principal::client("a"), principal::operator_("o")})
    CHECK(permitted(p, msg_class::client_request));
  for (auto c : {msg_class::peer, msg_class::register_server, msg_class::from_lb,
                 msg_class::local_only, msg_class::operator_action,
                 msg_class::client_request, msg_class::observe})
    CHECK_FALSE(permitted(principal::unknown(), c, 1));
}

TEST_CASE("authority: this process and a plaintext cluster may do anything") {
  for (auto p : {principal::local(), principal::unauthenticated()})
    for (auto c : {msg_class::peer, msg_class::register_server,
                   msg_class::from_lb, msg_class::local_only,
                   msg_class::operator_action, msg_class::client_request,
                   msg_class::observe})
      CHECK(permitted(p, c, 1));
}

TEST_CASE("authority: principals describe themselves for the event log") {
  CHECK(principal::of_server(2).describe() == "server 2");
  CHECK(principal::client("alice").describe() == "client alice");
  CHECK(principal::operator_("carol").describe() == "operator carol");
  CHECK(principal::load_balancer().describe() == "lb");
  CHECK(principal::client("alice").chats());
  CHECK_FALSE(principal::of_server(1).chats());
}

TEST_CASE("authority: a client talks only to the server it was assigned") {
  // The process at server 2's address, as the client's TLS connection to it
  // names it.
  CHECK(assigned_server_problem(principal::of_server(2), 2, true).empty());
  CHECK(assigned_server_problem(principal::of_server(3), 2, true)
        == "its certificate is that of server 3");
  CHECK(assigned_server_problem(principal::load_balancer(), 2, true)
        == "its certificate is that of lb");
  CHECK(assigned_server_problem(principal::client("mallory"), 2, true)
        == "its certificate is that of client mallory");
  CHECK(assigned_server_problem(principal::unknown(), 2, true)
        == "its certificate is that of unknown peer");
  CHECK(assigned_server_problem(principal::of_server(2), 2, false)
        == "the load balancer's handle for it lives in another process");
  // Plaintext: nobody is authenticated, nothing to check.
  CHECK(assigned_server_problem(principal::unauthenticated(), 2, false)
        .empty());
}
