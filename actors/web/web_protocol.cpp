#include "actors/web/web_protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "actors/common/event_log.hpp"
#include "actors/session/client_session.hpp"
#include "actors/web/ws_limits.hpp"

namespace cafchat::web {

using json = nlohmann::json;

namespace {

bad_request bad(std::string code, std::string message, uint64_t ref = 0,
                uint16_t close_code = 0) {
  return bad_request{std::move(code), std::move(message), ref, close_code};
}

std::string dump(const json& j) {
  // Invalid UTF-8 (which the cluster refuses, but a name could hold) is
  // replaced rather than thrown about.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// An unsigned integer field, if present and one.
bool get_uint(const json& j, const char* key, uint64_t& out) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number_unsigned())
    return false;
  out = i->get<uint64_t>();
  return true;
}

request parse_op(const json& j, uint64_t ref) {
  op_request op;
  op.ref = ref;
  auto action = operator_action_from(j.value("action", std::string{}));
  if (!action)
    return bad("bad_request", "op: action must be kill, restart, wipe or "
                              "skip_slot",
               ref);
  op.action = *action;
  uint64_t server = 0;
  if (op.action != operator_action::skip_slot
      && (!get_uint(j, "server", server) || server == 0 || server > 1000000))
    return bad("bad_request", "op: server must be a server id", ref);
  op.server = static_cast<server_id>(server);
  return op;
}

request parse_faults(const json& j, uint64_t ref) {
  faults_request f;
  f.ref = ref;
  auto& c = f.control;
  auto action = j.value("action", std::string{});
  uint64_t n = 0;
  auto server = [&]() {
    if (!get_uint(j, "server", n) || n == 0 || n > 1000000)
      return false;
    c.server = static_cast<server_id>(n);
    return true;
  };
  auto probability = [&]() {
    auto i = j.find("probability");
    if (i == j.end() || !i->is_number())
      return false;
    c.probability = i->get<double>();
    return true;
  };
  auto range = [&]() {
    uint64_t a = 0, b = 0;
    if (!get_uint(j, "min_ms", a) || !get_uint(j, "max_ms", b) || a > UINT32_MAX
        || b > UINT32_MAX)
      return false;
    c.min_ms = static_cast<uint32_t>(a);
    c.max_ms = static_cast<uint32_t>(b);
    return true;
  };
  bool ok = true;
  if (action == "query") {
    c.action = sim_action::query;
  } else if (action == "off") {
    c.action = sim_action::all_off;
  } else if (action == "heal") {
    c.action = sim_action::heal;
  } else if (action == "set_rule") {
    c.action = sim_action::set_rule;
    c.rule = j.value("rule", std::string{});
    ok = server() && !c.rule.empty() && c.rule.size() <= 200;
  } else if (action == "clear_rule") {
    c.action = sim_action::clear_rule;
    ok = server();
  } else if (action == "drop" || action == "duplicate") {
    c.action = action == "drop" ? sim_action::drop : sim_action::duplicate;
    ok = probability();
  } else if (action == "delay") {
    c.action = sim_action::delay;
    ok = range();
  } else if (action == "omission") {
    c.action = sim_action::omission;
    auto on = j.find("on");
    ok = on != j.end() && on->is_boolean();
    if (ok)
      c.on = on->get<bool>();
    if (ok && j.contains("min_ms"))
      ok = range();
  } else if (action == "isolate") {
    c.action = sim_action::isolate;
    ok = server();
  } else if (action == "split") {
    c.action = sim_action::split;
    auto s = j.find("servers");
    ok = s != j.end() && s->is_array() && !s->empty() && s->size() <= 100;
    if (ok)
      for (auto& x : *s) {
        if (!x.is_number_unsigned() || x.get<uint64_t>() == 0
            || x.get<uint64_t>() > 1000000) {
          ok = false;
          break;
        }
        c.servers.push_back(static_cast<server_id>(x.get<uint64_t>()));
      }
  } else {
    return bad("bad_request", "faults: unknown action '" + action + "'", ref);
  }
  if (!ok)
    return bad("bad_request", "faults " + action + ": missing or invalid fields "
                              "(see docs/web.md)",
               ref);
  return f;
}

} // namespace

request parse_request(std::string_view text) {
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return bad("invalid_json", "not valid JSON", 0, ws_invalid_data);
  if (!j.is_object())
    return bad("invalid_json", "a message must be a JSON object", 0,
               ws_invalid_data);
  uint64_t ref = 0;
  get_uint(j, "ref", ref);
  auto type = j.find("type");
  if (type == j.end() || !type->is_string())
    return bad("bad_request", "a message needs a \"type\"", ref);
  auto t = type->get<std::string>();
  if (t == "hello") {
    auto name = j.find("name");
    if (name == j.end() || !name->is_string())
      return bad("bad_request", "hello needs a \"name\"", ref);
    auto s = name->get<std::string>();
    if (auto why = validate_name(s); !why.empty())
      return bad("bad_name", why, ref);
    return hello_request{std::move(s)};
  }
  if (t == "say") {
    auto txt = j.find("text");
    if (txt == j.end() || !txt->is_string())
      return bad("bad_request", "say needs a \"text\"", ref);
    return say_request{txt->get<std::string>(), ref};
  }
  if (t == "op")
    return parse_op(j, ref);
  if (t == "faults")
    return parse_faults(j, ref);
  return bad("bad_request", "unknown type '" + t + "'", ref);
}

std::string welcome_json(bool is_operator, const std::string& operator_note,
                         const web_settings& limits, uint32_t max_text_bytes,
                         const std::string& program,
                         const std::string& version) {
  return dump({{"type", "welcome"},
               {"operator", is_operator},
               {"operator_note", operator_note},
               {"program", program},
               {"version", version},
               {"limits",
                {{"max_frame_bytes", limits.max_frame_bytes},
                 {"max_message_bytes", limits.max_message_bytes},
                 {"rate_per_s", limits.rate_per_s},
                 {"max_text_bytes", max_text_bytes}}}});
}

std::string session_json(uint64_t client, const std::string& name) {
  return dump({{"type", "session"},
               {"client", std::to_string(client)},
               {"name", name}});
}

std::string entries_json(const std::vector<chat_entry>& entries) {
  auto xs = json::array();
  for (auto& e : entries)
    xs.push_back({{"index", e.index},
                  {"slot", e.slot},
                  {"from", e.from},
                  {"client", std::to_string(e.client)},
                  {"seq", e.seq},
                  {"text", e.text},
                  {"time", utc_iso8601(e.time_ms)}});
  return dump({{"type", "entries"}, {"entries", std::move(xs)}});
}

std::string notice_json(const client_notice& n, uint64_t history) {
  return dump({{"type", "notice"},
               {"event", to_string(n.event)},
               {"server", n.server},
               {"seq", n.seq},
               {"detail", n.detail},
               {"history", history}});
}

std::string said_json(uint64_t ref, uint64_t seq) {
  return dump({{"type", "said"}, {"ref", ref}, {"seq", seq}});
}

std::string ack_json(uint64_t seq) {
  return dump({{"type", "ack"}, {"seq", seq}});
}

std::string result_json(uint64_t ref, bool ok, const std::string& message) {
  return dump({{"type", "result"}, {"ref", ref}, {"ok", ok},
               {"message", message}});
}

std::string error_json(const std::string& code, const std::string& message,
                       uint64_t ref) {
  return dump({{"type", "error"}, {"code", code}, {"message", message},
               {"ref", ref}});
}

uint64_t history_size(const cluster_view& view) {
  uint64_t n = 0;
  for (auto& s : view.servers)
    if (s.alive)
      n = std::max(n, s.history_size);
  return n;
}

std::string cluster_json(const cluster_view& view, const sim_report* faults,
                         int64_t wall_ms) {
  auto servers = json::array();
  for (auto& s : view.servers)
    servers.push_back({{"id", s.id},
                       {"alive", s.alive},
                       {"role", to_string(s.role)},
                       {"ballot", {s.bal.round, s.bal.node}},
                       {"leader", s.leader},
                       {"decided", s.chosen_upto},
                       {"delivered", s.delivered_upto},
                       {"history", s.history_size},
                       {"clients", s.sessions},
                       {"acceptor", to_string(s.acceptor)},
                       {"waiting", s.waiting},
                       {"timeout_ms", s.timeout_ms},
                       {"peers", s.peers}});
  auto clients = json::array();
  for (auto& c : view.clients)
    clients.push_back({{"client", std::to_string(c.client)},
                       {"name", c.name},
                       {"server", c.server}});
  json f = nullptr;
  if (faults != nullptr) {
    auto rules = json::object();
    for (auto& [id, r] : faults->rules)
      rules[std::to_string(id)] = r;
    f = {{"seed", faults->seed},
         {"delay_ms", {faults->delay_min_ms, faults->delay_max_ms}},
         {"drop", faults->drop_probability},
         {"duplicate", faults->duplicate_probability},
         {"omission", faults->omission},
         {"rotation_ms", {faults->rotation_min_ms, faults->rotation_max_ms}},
         {"faulty", faults->faulty},
         {"rules", std::move(rules)},
         {"partitions", faults->partitions},
         {"live", faults->live},
         {"forwarded", faults->forwarded},
         {"dropped", faults->dropped},
         {"duplicated", faults->duplicated},
         {"summary", faults->summary}};
  }
  // Leaders as the servers report them: the one most of the live ones name.
  server_id leader = 0;
  for (auto& s : view.servers)
    if (s.alive && s.role == server_role::leader)
      leader = s.id;
  return dump({{"type", "cluster"},
               {"ready", view.ready},
               {"leader", leader},
               {"history", history_size(view)},
               {"servers", std::move(servers)},
               {"clients", std::move(clients)},
               {"faults", std::move(f)},
               {"ts", wall_ms}});
}

std::string events_json(const std::vector<std::string>& lines, uint32_t stride,
                        uint64_t seen, uint64_t dropped) {
  std::string out = "{\"type\":\"events\",\"stride\":" + std::to_string(stride)
                    + ",\"seen\":" + std::to_string(seen)
                    + ",\"dropped\":" + std::to_string(dropped)
                    + ",\"events\":[";
  bool first = true;
  for (auto& l : lines) {
    // Our own logs write these; still, only whole JSON objects go out.
    if (l.empty() || l.front() != '{' || !json::accept(l))
      continue;
    if (!first)
      out += ',';
    out += l;
    first = false;
  }
  out += "]}";
  return out;
}

std::string describe_op(const op_request& op, bool ok) {
  auto id = std::to_string(op.server);
  switch (op.action) {
    case operator_action::skip_slot:
      return "the leader will skip a slot";
    case operator_action::kill:
      return ok ? "killed server " + id : "server " + id + " is already down";
    case operator_action::restart:
      return ok ? "restarted server " + id : "server " + id + " is already up";
    case operator_action::wipe:
      return ok ? "wiped server " + id
                    + " (its storage is gone; restart rejoins it)"
                : "server " + id + " cannot be wiped (only with storage = "
                    "memory)";
  }
  return ok ? "done" : "refused";
}

} // namespace cafchat::web
