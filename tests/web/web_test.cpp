// The web console's pure parts: the WebSocket message format (docs/web.md),
// the limits on what a browser may send, the event tap's sampling, and the
// [web] configuration.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "actors/web/event_tap.hpp"
#include "actors/web/web_protocol.hpp"
#include "actors/web/ws_limits.hpp"
#include "node/config.hpp"

using namespace cafchat;
using json = nlohmann::json;

namespace {

template <class T>
T as(const web::request& r) {
  REQUIRE(std::holds_alternative<T>(r));
  return std::get<T>(r);
}

std::string line(uint64_t server, const char* event, const std::string& rest) {
  return "{\"t\":1,\"ts\":2,\"server\":" + std::to_string(server)
         + ",\"event\":\"" + event + "\"" + rest + "}";
}

} // namespace

TEST_CASE("web: browser requests parse into typed requests") {
  CHECK(as<web::hello_request>(web::parse_request(
          R"({"type":"hello","name":"alice"})")).name == "alice");
  auto say = as<web::say_request>(
    web::parse_request(R"({"type":"say","text":"hi \u00e9","ref":7})"));
  CHECK(say.text == "hi \xc3\xa9");
  CHECK(say.ref == 7);
  auto op = as<web::op_request>(
    web::parse_request(R"({"type":"op","action":"kill","server":2,"ref":3})"));
  CHECK(op.action == operator_action::kill);
  CHECK(op.server == 2);
  CHECK(as<web::op_request>(web::parse_request(
          R"({"type":"op","action":"skip_slot"})")).action
        == operator_action::skip_slot);
  auto drop = as<web::faults_request>(web::parse_request(
    R"({"type":"faults","action":"drop","probability":0.25,"ref":9})"));
  CHECK(drop.control.action == sim_action::drop);
  CHECK(drop.control.probability == 0.25);
  CHECK(drop.ref == 9);
  auto split = as<web::faults_request>(
    web::parse_request(R"({"type":"faults","action":"split","servers":[1,2]})"));
  CHECK(split.control.servers == std::vector<server_id>{1, 2});
  auto rule = as<web::faults_request>(web::parse_request(
    R"({"type":"faults","action":"set_rule","server":3,"rule":"d:0"})"));
  CHECK(rule.control.server == 3);
  CHECK(rule.control.rule == "d:0");
  auto om = as<web::faults_request>(web::parse_request(
    R"({"type":"faults","action":"omission","on":true,"min_ms":1000,"max_ms":2000})"));
  CHECK(om.control.on);
  CHECK(om.control.max_ms == 2000);
  CHECK(as<web::faults_request>(web::parse_request(
          R"({"type":"faults","action":"off"})")).control.action
        == sim_action::all_off);
}

TEST_CASE("web: bad requests are answered, bad frames close the connection") {
  struct row {
    const char* text;
    const char* code;
    uint16_t close;
  };
  const row rows[] = {
    {"{not json", "invalid_json", ws_invalid_data},
    {"[1,2]", "invalid_json", ws_invalid_data},
    {"\"hello\"", "invalid_json", ws_invalid_data},
    {R"({"name":"x"})", "bad_request", 0},
    {R"({"type":"dance"})", "bad_request", 0},
    {R"({"type":"hello"})", "bad_request", 0},
    {R"({"type":"hello","name":""})", "bad_name", 0},
    {R"({"type":"hello","name":"bob\u001b[2J"})", "bad_name", 0},
    {R"({"type":"hello","name":"bob\u202e"})", "bad_name", 0},
    {R"({"type":"hello","name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})",
     "bad_name", 0},
    {R"({"type":"say","text":5})", "bad_request", 0},
    {R"({"type":"op","action":"explode","server":1})", "bad_request", 0},
    {R"({"type":"op","action":"kill"})", "bad_request", 0},
    {R"({"type":"op","action":"kill","server":-1})", "bad_request", 0},
    {R"({"type":"faults","action":"drop"})", "bad_request", 0},
    {R"({"type":"faults","action":"split","servers":[0]})", "bad_request", 0},
    {R"({"type":"faults","action":"delay","min_ms":1})", "bad_request", 0},
  };
  for (auto& r : rows) {
    INFO(r.text);
    auto b = as<web::bad_request>(web::parse_request(r.text));
    CHECK(b.code == r.code);
    CHECK(b.close_code == r.close);
    CHECK_FALSE(b.message.empty());
  }
}

TEST_CASE("web: what the page reads is JSON, with client ids as strings") {
  auto big = (uint64_t{1} << 63) + 5; // not exact as a JavaScript number
  auto e = json::parse(web::entries_json(
    {chat_entry{3, 2, big, 4, "al\"ice", "hi\n\xff", 1738314902137}}));
  CHECK(e["type"] == "entries");
  CHECK(e["entries"][0]["client"] == std::to_string(big));
  CHECK(e["entries"][0]["index"] == 3);
  CHECK(e["entries"][0]["from"] == "al\"ice");
  CHECK(e["entries"][0]["time"] == "2025-01-31T09:15:02.137Z");
  auto s = json::parse(web::session_json(big, "bob"));
  CHECK(s["client"] == std::to_string(big));
  auto n = json::parse(
    web::notice_json({notice_kind::connected, 2, 0, ""}, 100));
  CHECK(n["event"] == "connected");
  CHECK(n["server"] == 2);
  CHECK(n["history"] == 100);
  CHECK(json::parse(web::said_json(4, 9))["seq"] == 9);
  CHECK(json::parse(web::ack_json(9))["type"] == "ack");
  CHECK(json::parse(web::result_json(4, false, "no"))["ok"] == false);
  cluster_view v;
  v.ready = true;
  v.servers.push_back({1, true, server_role::leader, {3, 1}, 1, 10, 9, 7, 2,
                       acceptor_status::voting, ""});
  v.servers.push_back({2, false, server_role::down, {}, 0, 0, 0, 0, 0,
                       acceptor_status::unknown, ""});
  v.clients.push_back({big, "alice", 1});
  sim_report r;
  r.drop_probability = 0.5;
  r.faulty = 2;
  r.rules[3] = "d:0";
  r.partitions = {{1}, {2, 3}};
  auto c = json::parse(web::cluster_json(v, &r, 1234));
  CHECK(c["leader"] == 1);
  CHECK(c["history"] == 7);
  CHECK(c["servers"][0]["ballot"] == json::array({3, 1}));
  CHECK(c["servers"][1]["alive"] == false);
  CHECK(c["servers"][0]["role"] == "leader");
  CHECK(c["servers"][0]["acceptor"] == "voting");
  CHECK(c["servers"][1]["role"] == "down");
  CHECK(c["servers"][1]["acceptor"] == "");
  CHECK(c["clients"][0]["client"] == std::to_string(big));
  CHECK(c["faults"]["drop"] == 0.5);
  CHECK(c["faults"]["faulty"] == 2);
  CHECK(c["faults"]["rules"]["3"] == "d:0");
  CHECK(c["faults"]["partitions"][1] == json::array({2, 3}));
  CHECK(json::parse(web::cluster_json(v, nullptr, 0))["faults"].is_null());
  auto ev = json::parse(web::events_json(
    {line(1, "leader", ",\"ballot\":[2,1]"), "not json", "{\"broken\":"}, 4, 10,
    6));
  CHECK(ev["events"].size() == 1);
  CHECK(ev["events"][0]["event"] == "leader");
  CHECK(ev["stride"] == 4);
  CHECK(ev["dropped"] == 6);
  auto w = json::parse(web::welcome_json(true, "why", web_settings{}, 4096,
                                         "caf-node", "0.1.0"));
  CHECK(w["operator"] == true);
  CHECK(w["limits"]["max_text_bytes"] == 4096);
}

TEST_CASE("web: frames are put together within the frame and message limits") {
  ws_assembler a{10, 25};
  // One frame, FIN set.
  auto r = a.feed(0x81, "hello", 5);
  CHECK(r.kind == ws_assembler::result::message);
  CHECK(r.text == "hello");
  // A message in three frames.
  CHECK(a.feed(0x01, "abc", 3).kind == ws_assembler::result::more);
  CHECK(a.feed(0x00, "def", 3).kind == ws_assembler::result::more);
  r = a.feed(0x80, "g", 1);
  CHECK(r.kind == ws_assembler::result::message);
  CHECK(r.text == "abcdefg");
  // Over the frame limit.
  r = a.feed(0x81, "0123456789x", 11);
  CHECK(r.kind == ws_assembler::result::close);
  CHECK(r.code == ws_too_big);
  CHECK(r.reason.find("over the limit of 10") != std::string::npos);
  // Over the message limit, frame by frame.
  ws_assembler b{10, 25};
  CHECK(b.feed(0x01, "0123456789", 10).kind == ws_assembler::result::more);
  CHECK(b.feed(0x00, "0123456789", 10).kind == ws_assembler::result::more);
  r = b.feed(0x80, "0123456789", 10);
  CHECK(r.kind == ws_assembler::result::close);
  CHECK(r.code == ws_too_big);
  // Binary, a stray continuation, a message inside a message.
  CHECK(ws_assembler{10, 25}.feed(0x82, "x", 1).code == ws_unsupported);
  CHECK(ws_assembler{10, 25}.feed(0x80, "x", 1).code == ws_protocol_error);
  ws_assembler c{10, 25};
  c.feed(0x01, "x", 1);
  CHECK(c.feed(0x81, "y", 1).code == ws_protocol_error);
}

TEST_CASE("web: a connection over the rate is refused, then closed") {
  ws_rate_limiter l{10};
  int64_t t = 1000;
  for (int i = 0; i < 10; ++i)
    CHECK(l.admit(t) == ws_rate_limiter::verdict::allow);
  CHECK(l.admit(t) == ws_rate_limiter::verdict::refuse);
  // Tokens come back with time: 100 ms is one message at 10/s.
  CHECK(l.admit(t + 100) == ws_rate_limiter::verdict::allow);
  CHECK(l.admit(t + 100) == ws_rate_limiter::verdict::refuse);
  // A sender that ignores the refusals is closed within the second.
  ws_rate_limiter flood{10};
  ws_rate_limiter::verdict v = ws_rate_limiter::verdict::allow;
  int sent = 0;
  while (v != ws_rate_limiter::verdict::close && sent < 100) {
    v = flood.admit(5000);
    ++sent;
  }
  CHECK(v == ws_rate_limiter::verdict::close);
  CHECK(sent == 20);
  // A steady sender at the rate is never refused.
  ws_rate_limiter steady{10};
  for (int i = 0; i < 100; ++i)
    CHECK(steady.admit(10000 + i * 100) == ws_rate_limiter::verdict::allow);
}

TEST_CASE("web: the event tap keeps whole slots and says when it samples") {
  event_tap::options o;
  o.max_lines = 1000;
  o.budget = 40;
  event_tap tap{o};
  // Inactive: nothing is kept.
  tap.push(line(1, "leader", ",\"ballot\":[1,1],\"slot\":1"));
  CHECK(tap.drain().seen == 0);
  tap.set_active(true);
  auto burst = [&](uint64_t first, uint64_t n) {
    for (auto s = first; s < first + n; ++s)
      for (auto ev : {"propose", "accepted", "decision"})
        tap.push(line(1, ev, ",\"ballot\":[2,1],\"slot\":" + std::to_string(s)));
  };
  // 30 slot events: under the budget, every one is kept.
  burst(1, 10);
  auto b = tap.drain();
  CHECK(b.lines.size() == 30);
  CHECK(b.stride == 1);
  CHECK(b.dropped == 0);
  // 300: over the budget; the stride doubles from the next drain on.
  burst(11, 100);
  b = tap.drain();
  CHECK(b.lines.size() == 300);
  CHECK(tap.stride() == 2);
  burst(111, 100);
  b = tap.drain();
  CHECK(b.stride == 2);
  CHECK(b.seen == 300);
  CHECK(b.lines.size() == 150);
  CHECK(b.dropped == 150);
  // Whole slots: every kept slot has all three of its events.
  std::map<uint64_t, int> per_slot;
  for (auto& l : b.lines) {
    auto r = event_tap::slot_range(l);
    REQUIRE(r);
    CHECK(r->first % 2 == 0);
    ++per_slot[r->first];
  }
  for (auto& [slot, n] : per_slot)
    CHECK(n == 3);
  // Elections are never sampled out, whatever their slot field says.
  tap.push(line(2, "leader", ",\"ballot\":[3,2],\"slot\":7"));
  tap.push(line(2, "prepare", ",\"ballot\":[3,2],\"first_slot\":7"));
  b = tap.drain();
  CHECK(b.lines.size() == 2);
  // Quiet again: the stride comes back down, halving at each drain.
  int drains = 0;
  while (tap.stride() > 1 && drains < 10) {
    tap.drain();
    ++drains;
  }
  CHECK(tap.stride() == 1);
  CHECK(drains <= 2);
  // A delivered range is kept if it holds a sampled slot.
  CHECK(event_tap::sampled(5, 9, 4));
  CHECK_FALSE(event_tap::sampled(5, 7, 4));
  auto r = event_tap::slot_range(line(1, "delivered",
                                      ",\"first_slot\":5,\"last_slot\":9"));
  REQUIRE(r);
  CHECK(r->first == 5);
  CHECK(r->second == 9);
  // The cap holds whatever comes.
  event_tap::options small;
  small.max_lines = 5;
  event_tap capped{small};
  capped.set_active(true);
  for (int i = 0; i < 20; ++i)
    capped.push(line(1, "leader_lost", ""));
  b = capped.drain();
  CHECK(b.lines.size() == 5);
  CHECK(b.dropped == 15);
}

TEST_CASE("web: [web] settings are checked like every other key") {
  auto c = parse_config("[cluster]\nf = 1\n", "x");
  CHECK(c.web.listen.empty());
  CHECK(c.web.max_frame_bytes == 16384);
  c = parse_config("[cluster]\nf = 1\n[web]\nlisten = 127.0.0.1:8080\n"
                   "max_connections = 4\nrate_per_s = 5\n",
                   "x");
  CHECK(c.web.listen == "127.0.0.1:8080");
  CHECK(c.web.max_connections == 4);
  CHECK(c.web.rate_per_s == 5);
  auto error_of = [](const std::string& text) {
    try {
      parse_config(text, "t.ini");
    } catch (config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("[cluster]\nf = 1\n[web]\nlisten = 8080\n")
        == "t.ini:4: [web] listen: expected ADDR:PORT (e.g. 127.0.0.1:8080), "
           "got '8080'");
  CHECK(error_of("[cluster]\nf = 1\n[web]\nlisten = example.org:80\n")
          .find("is not an IPv4 address")
        != std::string::npos);
  CHECK(error_of("[cluster]\nf = 1\n[web]\nlisten = 127.0.0.1:70000\n")
          .find("must be a number from 0 to 65535")
        != std::string::npos);
  CHECK(error_of("[cluster]\nf = 1\n[web]\nmax_frame_bytes = 1000\n"
                 "max_message_bytes = 500\n")
          .find("must be at least max_frame_bytes")
        != std::string::npos);
  CHECK(error_of("[cluster]\nf = 1\n[web]\nport = 1\n")
          .find("unknown key 'port' in [web]")
        != std::string::npos);
  CHECK(parse_web_endpoint("localhost:0").host == "127.0.0.1");
  CHECK(parse_web_endpoint("127.0.0.1:8080").loopback());
  CHECK_FALSE(parse_web_endpoint("0.0.0.0:8080").loopback());
}
