// The client session: what it lets through to the proposer, on CAF's real
// scheduler with scoped actors standing in for the proposer, the learner and
// the client. And the rule for chat names, table-driven.

#include <catch2/catch.hpp>

#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/common/client_key.hpp"
#include "actors/server/server_actor.hpp"
#include "actors/session/client_session.hpp"
#include "actors/storage/memory_storage.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"
#include "messages/errors.hpp"

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

namespace {

/// A session on the real scheduler whose proposer, learner and client are
/// scoped actors; the learner has answered the first history request (an
/// empty history, live).
struct session_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor proposer{sys};
  caf::scoped_actor learner{sys};
  caf::scoped_actor client{sys};
  caf::actor s;

  session_config base() {
    session_config sc;
    sc.server = 1;
    sc.client = 7;
    sc.name = "bob";
    sc.client_actor = client;
    sc.proposer = proposer;
    sc.learner = learner;
    return sc;
  }

  void start(session_config sc, bool answer_history = true) {
    s = sys.spawn(client_session, sc);
    if (answer_history) {
      learner->receive(
        [](const history_request&) { return history_reply{{}, true, 0}; });
      // The end of the (empty) history: the client is live.
      client->receive([](const delivered& d) { CHECK(d.from_history); },
                      caf::after(std::chrono::seconds(2)) >> [] {});
    }
  }

  ~session_fixture() {
    if (s)
      caf::anon_send_exit(s, caf::exit_reason::kill);
  }

  static std::vector<command> texts(uint64_t from, uint64_t to) {
    std::vector<command> xs;
    for (auto seq = from; seq <= to; ++seq)
      xs.push_back(command{7, seq, "", "m" + std::to_string(seq)});
    return xs;
  }

  /// The seqs of the next submit the proposer gets (none within 200 ms: {}).
  std::vector<uint64_t> proposed() {
    std::vector<uint64_t> seqs;
    proposer->receive(
      [&](const submit& m) {
        for (auto& c : m.commands)
          seqs.push_back(c.seq);
      },
      caf::after(std::chrono::milliseconds(200)) >> [] {});
    return seqs;
  }

  /// The next refusal the client gets (none within 200 ms: seq 0, "").
  rejected refusal() {
    rejected r{0, 0, ""};
    client->receive([&](const rejected& x) { r = x; },
                    caf::after(std::chrono::milliseconds(200)) >> [] {});
    return r;
  }
};

std::vector<chat_entry> entries(uint64_t from, uint64_t to, size_t text_bytes) {
  std::vector<chat_entry> xs;
  for (auto i = from; i <= to; ++i)
    xs.push_back({i, i, 9, i, "alice", std::string(text_bytes, 'x'), 0});
  return xs;
}

} // namespace

TEST_CASE_METHOD(session_fixture, "session: a submit of more commands than "
                                  "commands_per_submit gets the excess "
                                  "refused with one answer") {
  auto sc = base();
  sc.max_commands = 4;
  start(sc);
  caf::anon_send(s, submit{texts(1, 10)});
  CHECK(proposed() == std::vector<uint64_t>{1, 2, 3, 4});
  auto r = refusal();
  CHECK(r.seq == 5);
  CHECK(r.reason == "10 commands in one submit, over the limit of 4");
  CHECK(refusal().seq == 0); // one answer, not six
}

TEST_CASE_METHOD(session_fixture, "session: new messages beyond the token "
                                  "bucket are refused with a reason, and resends "
                                  "of admitted ones pass") {
  auto sc = base();
  sc.rate_per_s = 1;
  sc.rate_burst = 3;
  start(sc);
  caf::anon_send(s, submit{texts(1, 5)});
  CHECK(proposed() == std::vector<uint64_t>{1, 2, 3});
  for (uint64_t seq : {4, 5}) {
    auto r = refusal();
    CHECK(r.seq == seq);
    CHECK(r.reason == "over the rate limit of 1 messages/s (burst 3)");
  }
  // Resends of what was admitted cost nothing: the client lost track of
  // them, not the rate.
  caf::anon_send(s, submit{texts(1, 3)});
  CHECK(proposed() == std::vector<uint64_t>{1, 2, 3});
  CHECK(refusal().seq == 0);
  // Withdrawals take a token too.
  caf::anon_send(s, submit{{command::withdrawal(7, 4)}});
  CHECK(proposed().empty());
  CHECK(refusal().seq == 4);
}

TEST_CASE_METHOD(session_fixture, "session: a client that does not confirm "
                                  "what it read is disconnected with a "
                                  "reason once its send queue is full") {
  auto sc = base();
  sc.send_queue_max_bytes = 10000; // ~9 entries of 1000 bytes
  start(sc);
  client->monitor(s);
  uint64_t closed_at = 0;
  std::string why;
  for (uint64_t i = 1; i <= 20 && closed_at == 0; ++i) {
    caf::anon_send(s, delivered{entries(i, i, 1000), {}, false, 0});
    client->receive([](const delivered&) {},
                    caf::after(std::chrono::seconds(2)) >> [] {});
    auto r = refusal();
    if (r.reason.empty())
      continue;
    CHECK(r.seq == 0);
    why = r.reason;
    closed_at = i;
    client->receive(
      [&](const caf::down_msg& dm) {
        CHECK(dm.source == s.address());
        CHECK_FALSE(dm.reason); // normally: its server lives on
      },
      caf::after(std::chrono::seconds(2)) >> [] { FAIL("no down_msg"); });
  }
  // 64 bytes for the end of the history, 1069 an entry (entry_bytes): the
  // tenth entry is over 10000.
  CHECK(closed_at == 10);
  CHECK(why.find("send queue of") == 0);
  CHECK(why.find("over the limit of 10000") != std::string::npos);
}

TEST_CASE_METHOD(session_fixture, "session: a client that confirms what it "
                                  "read stays, however much it reads") {
  auto sc = base();
  sc.send_queue_max_bytes = 10000;
  start(sc);
  for (uint64_t i = 1; i <= 100; ++i) {
    caf::anon_send(s, delivered{entries(i, i, 1000), {}, false, 0});
    bool got = false;
    client->receive([&](const delivered& d) { got = d.entries.size() == 1; },
                    caf::after(std::chrono::seconds(2)) >> [] {});
    REQUIRE(got);
    if (i % 4 == 0)
      caf::anon_send(s, received{i});
  }
  CHECK(refusal().seq == 0);
}

TEST_CASE_METHOD(session_fixture, "session: a history download waits for the "
                                  "client to confirm a quarter of its send "
                                  "queue") {
  auto sc = base();
  sc.send_queue_max_bytes = 40000;
  start(sc, false);
  // A chunk of 20 entries of 1000 bytes: over a quarter (10000).
  learner->receive([](const history_request& q) {
    CHECK(q.first_index == 1);
    return history_reply{entries(1, 20, 1000), false, 0, 100};
  });
  client->receive([](const delivered& d) { CHECK(d.entries.size() == 20); });
  bool asked = false;
  learner->receive([&](const history_request&) { asked = true; },
                   caf::after(std::chrono::milliseconds(300)) >> [] {});
  CHECK_FALSE(asked);
  caf::anon_send(s, received{20});
  learner->receive(
    [&](const history_request& q) {
      asked = true;
      CHECK(q.first_index == 21);
      return history_reply{{}, true, 0, 20};
    },
    caf::after(std::chrono::seconds(2)) >> [] {});
  CHECK(asked);
}

TEST_CASE("session: a server opens at most sessions_per_server sessions, one "
          "per client key, and outlives a session its client kills") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  server_config sc;
  sc.id = 1;
  sc.params.servers = {1};
  sc.params.limits.sessions_per_server = 2;
  sc.storage = make_memory_storage();
  sc.founder = true;
  auto server = sys.spawn(server_actor, sc);
  caf::scoped_actor c1{sys};
  caf::scoped_actor c2{sys};
  caf::scoped_actor c3{sys};
  auto say_hello = [&](caf::scoped_actor& c, const std::string& key,
                       const std::string& name) {
    caf::expected<welcome> result{caf::sec::request_timeout};
    c->request(server, std::chrono::seconds(5),
               hello{key, name, 0, caf::actor{c}})
      .receive([&](welcome& w) { result = std::move(w); },
               [&](caf::error& e) { result = std::move(e); });
    return result;
  };
  auto k1 = new_client_key();
  auto w1 = say_hello(c1, k1, "alice");
  REQUIRE(w1);
  CHECK(w1->client == client_id_of(k1));
  CHECK(w1->max_commands == 256);
  auto w2 = say_hello(c2, new_client_key(), "bob");
  REQUIRE(w2);
  auto w3 = say_hello(c3, new_client_key(), "carol");
  REQUIRE_FALSE(w3);
  CHECK(describe(w3.error())
        == "server 1 has 2 sessions, its limit ([limits] sessions_per_server)");
  auto bad = say_hello(c3, "short", "carol");
  REQUIRE_FALSE(bad);
  CHECK(describe(bad.error()).find("client key of 5 bytes") == 0);
  // Alice again (her key): her old session goes, and she is not refused.
  c1->monitor(w1->session);
  auto again = say_hello(c1, k1, "alice");
  REQUIRE(again);
  bool old_gone = false;
  c1->receive(
    [&](const caf::down_msg& dm) {
      old_gone = dm.source == w1->session.address();
    },
    caf::after(std::chrono::seconds(5)) >> [] {});
  CHECK(old_gone);
  // Bob kills his own session: the server lives on.
  caf::anon_send_exit(w2->session, caf::exit_reason::kill);
  bool alive = false;
  c2->request(server, std::chrono::seconds(5), info_atom::value)
    .receive([&](const server_info& info) { alive = info.id == 1; },
             [](caf::error&) {});
  CHECK(alive);
  caf::anon_send_exit(server, caf::exit_reason::kill);
}
