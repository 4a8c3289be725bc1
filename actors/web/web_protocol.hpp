#pragma once

// The web console's WebSocket messages: JSON text, one object per message,
// each with a "type" (docs/web.md documents every field). This file turns
// what a browser sends into typed requests and what the cluster does into
// the JSON the page reads; it does no I/O, so tests/web checks it directly.
//
// Client ids are 64-bit and do not fit a JavaScript number: they travel as
// decimal strings.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/client/client_actor.hpp"
#include "messages/client.hpp"
#include "messages/control.hpp"
#include "actors/web/web_settings.hpp"

namespace cafchat::web {

// -- browser -> gateway ---------------------------------------------------------

/// {"type":"hello","name":"alice"}: start chatting as `name`.
struct hello_request {
  std::string name;
};

/// {"type":"say","text":"hi","ref":7}: send a chat message.
struct say_request {
  std::string text;
  uint64_t ref = 0;
};

/// {"type":"op","action":"kill","server":2,"ref":8}: an operator command.
struct op_request {
  operator_action action = operator_action::kill;
  server_id server = 0;
  uint64_t ref = 0;
};

/// {"type":"faults","action":"drop","probability":0.2,"ref":9}.
struct faults_request {
  sim_control control;
  uint64_t ref = 0;
};

/// A message the gateway cannot act on: answered with an error, or, when
/// `close_code` is set, the connection is closed with it.
struct bad_request {
  std::string code; ///< bad_request, invalid_json, ...
  std::string message;
  uint64_t ref = 0;
  uint16_t close_code = 0;
};

using request = std::variant<hello_request, say_request, op_request,
                             faults_request, bad_request>;

/// Parses one text message from a browser.
request parse_request(std::string_view text);


// -- gateway -> browser ---------------------------------------------------------

/// First message on every connection: what this console is.
std::string welcome_json(bool is_operator, const std::string& operator_note,
                         const web_settings& limits, uint32_t max_text_bytes,
                         const std::string& program, const std::string& version);
/// After hello: the client this connection chats as.
std::string session_json(uint64_t client, const std::string& name);
std::string entries_json(const std::vector<chat_entry>& entries);
/// A client notice (connected, server_lost, waiting, rejected, withdrawn,
/// ...); `history` is the history size the cluster reported last, so that the
/// page can show the download's progress.
std::string notice_json(const client_notice& n, uint64_t history);
std::string said_json(uint64_t ref, uint64_t seq);
std::string ack_json(uint64_t seq);
std::string result_json(uint64_t ref, bool ok, const std::string& message);
std::string error_json(const std::string& code, const std::string& message,
                       uint64_t ref = 0);
/// The cluster: the balancer's view and, if the simulator runs, its report.
std::string cluster_json(const cluster_view& view, const sim_report* faults,
                         int64_t wall_ms);
/// Protocol events: `lines` are event-log lines (JSON objects); any that is
/// not one is left out.
std::string events_json(const std::vector<std::string>& lines, uint32_t stride,
                        uint64_t seen, uint64_t dropped);

/// The sentence for an operator command's answer, as the shell words it.
std::string describe_op(const op_request& op, bool ok);

/// The largest history any live server reports.
uint64_t history_size(const cluster_view& view);

} // namespace cafchat::web
