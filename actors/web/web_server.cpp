#include "actors/web/web_server.hpp"

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <civetweb.h>

#include "actors/web/web_protocol.hpp"
#include "actors/web/ws_limits.hpp"

namespace cafchat {

// -- ws_socket ------------------------------------------------------------------

ws_socket::ws_socket(uint64_t id, std::string remote, size_t max_queued_bytes)
  : id_(id), remote_(std::move(remote)), max_queued_bytes_(max_queued_bytes) {}

void ws_socket::send(std::string text) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (closing_ || gone_)
    return;
  if (queued_bytes_ + text.size() > max_queued_bytes_) {
    guard.unlock();
    close(ws_policy, "the browser does not read fast enough");
    return;
  }
  queued_bytes_ += text.size();
  queue_.push_back(std::move(text));
  cv_.notify_one();
}

void ws_socket::close(uint16_t code, std::string reason) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closing_ || gone_)
    return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  cv_.notify_one();
}

bool ws_socket::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closing_ || gone_;
}

void ws_socket::attach(mg_connection* conn) {
  std::lock_guard<std::mutex> io{io_mtx_};
  conn_ = conn;
}

void ws_socket::detach() {
  {
    // Waits for a write in progress; none starts after this.
    std::lock_guard<std::mutex> io{io_mtx_};
    conn_ = nullptr;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  gone_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  cv_.notify_one();
}

bool ws_socket::write_frame(int opcode, const std::string& payload) {
  std::lock_guard<std::mutex> io{io_mtx_};
  if (conn_ == nullptr)
    return false;
  return mg_websocket_write(conn_, opcode, payload.data(), payload.size()) > 0;
}

namespace {

std::string close_payload(uint16_t code, const std::string& reason) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xFF);
  p += reason.substr(0, 123);
  return p;
}

} // namespace

void ws_socket::close_now(uint16_t code, const std::string& reason) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (close_sent_)
      return;
    closing_ = true;
    close_sent_ = true; // the writer sends nothing more
    cv_.notify_one();
  }
  write_frame(MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, close_payload(code, reason));
}

void ws_socket::run_writer() {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    cv_.wait(guard, [&] { return gone_ || !queue_.empty() || closing_; });
    if (gone_ || close_sent_)
      return;
    if (!queue_.empty()) {
      auto text = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= text.size();
      guard.unlock();
      bool ok = write_frame(MG_WEBSOCKET_OPCODE_TEXT, text);
      guard.lock();
      if (!ok)
        return;
      continue;
    }
    // closing_, and everything before the close frame is out.
    if (close_sent_)
      return;
    close_sent_ = true;
    auto payload = close_payload(close_code_, close_reason_);
    guard.unlock();
    write_frame(MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload);
    return;
  }
}

// -- civetweb callbacks -----------------------------------------------------------

struct web_server::connection {
  std::shared_ptr<ws_socket> socket;
  ws_assembler assembler;
  ws_rate_limiter limiter;
  bool counted = false;  ///< Counts against max_connections.
  bool refused = false;  ///< Over the cap: closed at once.
};

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

int serve_asset(mg_connection* conn, void*) {
  auto info = mg_get_request_info(conn);
  std::string path = info->local_uri != nullptr ? info->local_uri : "/";
  auto asset = find_web_asset(path);
  if (asset == nullptr || std::strcmp(info->request_method, "GET") != 0) {
    mg_send_http_error(conn, 404, "%s", "Not found");
    return 404;
  }
  // Everything the page needs is here: the policy forbids fetching
  // anything from elsewhere.
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %zu\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Content-Security-Policy: default-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; style-src 'self'; script-src 'self'\r\n"
            "Connection: close\r\n\r\n",
            asset->mime, asset->size);
  mg_write(conn, asset->body, asset->size);
  return 200;
}

/// Refuses a WebSocket from a page of another origin: any web page the user
/// opens could otherwise drive this console (and its operator controls).
int ws_connect(const mg_connection* conn, void*) {
  auto origin = mg_get_header(conn, "Origin");
  auto host = mg_get_header(conn, "Host");
  if (origin == nullptr)
    return 0; // not a browser (scripts, tests)
  if (host == nullptr)
    return 1;
  std::string o{origin};
  auto scheme = o.find("://");
  if (scheme != std::string::npos)
    o = o.substr(scheme + 3);
  return o == host ? 0 : 1;
}

void ws_ready(mg_connection* conn, void* data) {
  auto server = static_cast<web_server*>(data);
  auto info = mg_get_request_info(conn);
  auto c = new web_server::connection{
    std::make_shared<ws_socket>(server->next_id++, info->remote_addr,
                                size_t{64} << 20),
    ws_assembler{server->limits.max_frame_bytes,
                 server->limits.max_message_bytes},
    ws_rate_limiter{server->limits.rate_per_s}};
  mg_set_user_connection_data(conn, c);
  c->socket->attach(conn);
  if (++server->open > server->limits.max_connections) {
    --server->open;
    c->refused = true;
    c->socket->close_now(ws_try_later,
                         "too many connections (max_connections = "
                           + std::to_string(server->limits.max_connections)
                           + "); try again later");
    return;
  }
  c->counted = true;
  std::thread([s = c->socket] { s->run_writer(); }).detach();
  server->events->on_open(c->socket);
}

int ws_data(mg_connection* conn, int bits, char* data, size_t len,
            void* cbdata) {
  auto server = static_cast<web_server*>(cbdata);
  auto c = static_cast<web_server::connection*>(
    mg_get_user_connection_data(conn));
  if (c == nullptr || c->refused)
    return 0;
  auto opcode = bits & 0x0F;
  if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
    return 0;
  if (opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG)
    return 1;
  auto r = c->assembler.feed(bits, data, len);
  if (r.kind == ws_assembler::result::close) {
    c->socket->close_now(r.code, r.reason);
    return 0;
  }
  if (r.kind == ws_assembler::result::more)
    return 1;
  switch (c->limiter.admit(steady_ms())) {
    case ws_rate_limiter::verdict::allow:
      server->events->on_message(c->socket->id(), std::move(r.text));
      return 1;
    case ws_rate_limiter::verdict::refuse:
      c->socket->send(web::error_json(
        "rate_limited", "more than " + std::to_string(server->limits.rate_per_s)
                          + " messages per second: this one was dropped"));
      return 1;
    case ws_rate_limiter::verdict::close:
      c->socket->close_now(ws_policy,
                           "message rate over twice rate_per_s = "
                             + std::to_string(server->limits.rate_per_s));
      return 0;
  }
  return 1;
}

void ws_closed(const mg_connection* conn, void* cbdata) {
  auto server = static_cast<web_server*>(cbdata);
  auto c = static_cast<web_server::connection*>(
    mg_get_user_connection_data(conn));
  if (c == nullptr)
    return;
  c->socket->detach();
  if (c->counted) {
    --server->open;
    server->events->on_close(c->socket->id());
  }
  mg_set_user_connection_data(conn, nullptr);
  delete c;
}

} // namespace

std::unique_ptr<web_server> web_server::start(const web_endpoint& listen,
                                              const web_settings& limits,
                                              web_events& events,
                                              std::string& error) {
  std::unique_ptr<web_server> s{new web_server};
  s->limits = limits;
  s->events = &events;
  mg_init_library(0);
  auto ports = listen.to_string();
  // A thread per WebSocket connection, and some for page requests (and the
  // refusals of connections over the cap).
  auto threads = std::to_string(limits.max_connections + 8);
  const char* options[] = {"listening_ports", ports.c_str(),
                           "num_threads", threads.c_str(),
                           "request_timeout_ms", "10000",
                           "websocket_timeout_ms", "10000",
                           "enable_websocket_ping_pong", "yes",
                           "enable_keep_alive", "no",
                           nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  callbacks.log_message = [](const mg_connection*, const char*) {
    return 1; // quiet: refusals are reported to the browser instead
  };
  mg_init_data init;
  std::memset(&init, 0, sizeof(init));
  init.callbacks = &callbacks;
  init.user_data = s.get();
  init.configuration_options = options;
  mg_error_data err;
  std::memset(&err, 0, sizeof(err));
  char text[256] = {0};
  err.text = text;
  err.text_buffer_size = sizeof(text);
  s->ctx_ = mg_start2(&init, &err);
  if (s->ctx_ == nullptr) {
    error = "cannot listen on " + ports + ": "
            + (text[0] != '\0' ? std::string(text) : "unknown error");
    return nullptr;
  }
  mg_server_port sp[4];
  auto n = mg_get_server_ports(s->ctx_, 4, sp);
  if (n > 0)
    s->port_ = static_cast<uint16_t>(sp[0].port);
  mg_set_request_handler(s->ctx_, "/", serve_asset, s.get());
  mg_set_websocket_handler(s->ctx_, "/ws", ws_connect, ws_ready, ws_data,
                           ws_closed, s.get());
  return s;
}

web_server::~web_server() {
  stop();
}

void web_server::stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

} // namespace cafchat
