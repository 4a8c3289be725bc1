// The client session: what it lets through to the proposer, on CAF's real
// scheduler with scoped actors standing in for the proposer, the learner and
// the client. And the rule for chat names, table-driven.

#include <catch2/catch.hpp>

#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/session/client_session.hpp"
#include "messages/client.hpp"

using namespace cafchat;

TEST_CASE("session: a chat name is 1 to 64 bytes of printable UTF-8") {
  struct row {
    std::string name;
    std::string why; // "" : accepted
  };
  const row rows[] = {
    {"alice", ""},
    {"Zoë 山田", ""},
    {std::string(64, 'x'), ""},
    {"", "empty name"},
    {std::string(65, 'x'), "name of 65 bytes is over the limit of 64 bytes"},
    {std::string(1 << 20, 'x'),
     "name of 1048576 bytes is over the limit of 64 bytes"},
    {"bob\xff", "name is not valid UTF-8"},
    {"\xc0\xaf", "name is not valid UTF-8"},
    {"bob\r[9] alice", "name holds a control or text-direction character"},
    {"bob\x1b[2J", "name holds a control or text-direction character"},
    {"bob\x07", "name holds a control or text-direction character"},
    {"bob\x7f", "name holds a control or text-direction character"},
    {"bob\xc2\x9b", "name holds a control or text-direction character"}, // C1 CSI
    {"bob\xe2\x80\xae", "name holds a control or text-direction character"}, // U+202E
    {"bob\xe2\x81\xa6", "name holds a control or text-direction character"}, // U+2066
    {"a\xe2\x80\xa8" "b", "name holds a control or text-direction character"}, // U+2028
  };
  for (auto& r : rows) {
    INFO("name of " << r.name.size() << " bytes");
    CHECK(validate_name(r.name) == r.why);
  }
}

TEST_CASE("session: the session stamps its client's name on every message and "
          "refuses commands for another client") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor proposer{sys};
  caf::scoped_actor learner{sys};
  caf::scoped_actor client{sys};
  session_config sc;
  sc.server = 1;
  sc.client = 7;
  sc.name = "bob";
  sc.client_actor = client;
  sc.proposer = proposer;
  sc.learner = learner;
  auto s = sys.spawn(client_session, sc);
  learner->receive(
    [](const history_request&) { return history_reply{{}, true, 0}; });
  caf::anon_send(s, submit{{command{7, 1, "alice", "I am alice"},
                            command{8, 1, "carol", "and carol"},
                            command::withdrawal(7, 2)}});
  client->receive([](const rejected& r) {
    CHECK(r.client == 7);
    CHECK(r.seq == 1);
    CHECK(r.reason == "command names another client");
  });
  proposer->receive([](const submit& m) {
    REQUIRE(m.commands.size() == 2);
    CHECK(m.commands[0].client == 7);
    CHECK(m.commands[0].from == "bob");
    CHECK(m.commands[0].text == "I am alice");
    CHECK(m.commands[1].is_withdrawal());
  });
  caf::anon_send_exit(s, caf::exit_reason::kill);
}
