#pragma once

// The HTTP and WebSocket side of the web console, on civetweb (Debian's
// libcivetweb-dev): it serves the page (assets compiled into the program)
// and the WebSocket endpoint /ws. civetweb runs every connection on a thread
// of its own; nothing here touches an actor. What arrives is handed to a
// `web_events` (the gateway's glue, which passes it on by message), and what
// goes out is queued on the connection's `ws_socket`, whose own writer
// thread sends it, so that a slow browser never blocks an actor.
//
// Limits ([web] in the config): frame and message sizes and the message
// rate per connection are checked on the connection's thread before
// anything is handed on (ws_limits.hpp); a connection that breaks one is
// closed with a close code and a reason, and only that connection. At most
// `max_connections` WebSocket connections are open; one more is answered
// with close code 1013 and a reason. Note: civetweb 1.15 reads a whole frame
// into memory before it hands it over (it refuses frames over 2 GiB
// itself), so the frame limit closes the connection after the frame, not
// before it is read.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/web/web_settings.hpp"

struct mg_connection;
struct mg_context;

namespace cafchat {

/// One browser's WebSocket connection. Thread-safe: any thread may send.
class ws_socket {
public:
  ws_socket(uint64_t id, std::string remote, size_t max_queued_bytes);

  uint64_t id() const { return id_; }
  /// The peer's IP address.
  const std::string& remote() const { return remote_; }

  /// Queues a text message. A connection whose queue holds more than its
  /// limit (a browser that does not read) is closed instead.
  void send(std::string text);
  /// Queues a close frame with `code` and `reason`; nothing is sent after it.
  void close(uint16_t code, std::string reason);
  bool closed() const;

  // -- for web_server ---------------------------------------------------------
  void attach(mg_connection* conn);
  /// The connection is gone (civetweb's close handler): no write starts
  /// after this returns.
  void detach();
  /// Writes a close frame at once (on the connection's own thread).
  void close_now(uint16_t code, const std::string& reason);
  /// The writer thread's loop.
  void run_writer();

private:
  bool write_frame(int opcode, const std::string& payload);

  const uint64_t id_;
  const std::string remote_;
  const size_t max_queued_bytes_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool closing_ = false;     ///< close() called: the close frame is last.
  bool close_sent_ = false;  ///< close_now() sent it already.
  uint16_t close_code_ = 0;
  std::string close_reason_;
  bool gone_ = false;        ///< detached: the connection no longer exists.
  std::mutex io_mtx_;        ///< Held while writing to `conn_`.
  mg_connection* conn_ = nullptr;
};

/// What the server hands on: called on civetweb's threads.
class web_events {
public:
  virtual ~web_events() = default;
  virtual void on_open(const std::shared_ptr<ws_socket>& socket) = 0;
  virtual void on_message(uint64_t id, std::string text) = 0;
  virtual void on_close(uint64_t id) = 0;
};

/// A static file of the page, compiled into the program (web_assets.cpp).
struct web_asset {
  const char* path;       ///< "/", "/app.js", ...
  const char* mime;
  const char* body;
  size_t size;
};

/// The page's files (generated at build time from actors/web/assets).
const web_asset* find_web_asset(const std::string& path);

class web_server {
public:
  /// Starts listening; on failure returns null with `error` set.
  static std::unique_ptr<web_server> start(const web_endpoint& listen,
                                           const web_settings& limits,
                                           web_events& events,
                                           std::string& error);
  ~web_server();

  /// The port it listens on (the chosen one if the config said 0).
  uint16_t port() const { return port_; }
  /// Stops serving: every connection is closed (on_close for each).
  void stop();

  // -- for civetweb's callbacks ------------------------------------------------
  struct connection; ///< Per-connection state on civetweb's side.
  web_settings limits;
  web_events* events = nullptr;
  std::atomic<uint32_t> open{0};
  std::atomic<uint64_t> next_id{1};

private:
  web_server() = default;
  mg_context* ctx_ = nullptr;
  uint16_t port_ = 0;
};

} // namespace cafchat
