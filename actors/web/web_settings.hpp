#pragma once

// The [web] section: where the web console listens and the limits it puts
// on every browser connection (docs/web.md). Plain data, no CAF, no
// civetweb: node/config.cpp fills it, actors/web uses it.

#include <cstdint>
#include <string>

namespace cafchat {

/// An address the web console listens on: an IPv4 literal (or localhost)
/// and a port (0: any free port, which the program then prints).
struct web_endpoint {
  std::string host;
  uint16_t port = 0;
  /// 127.0.0.0/8: only this machine can connect.
  bool loopback() const;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

/// Parses "ADDR:PORT"; throws std::invalid_argument with a sentence saying
/// what is wrong.
web_endpoint parse_web_endpoint(const std::string& text);

struct web_settings {
  std::string listen;                  ///< "" : no web console.
  uint32_t max_frame_bytes = 16384;    ///< One WebSocket frame, at most.
  uint32_t max_message_bytes = 65536;  ///< One message (all its frames).
  uint32_t max_connections = 32;       ///< Open WebSocket connections.
  uint32_t rate_per_s = 50;            ///< Messages per connection per second.
};

} // namespace cafchat
