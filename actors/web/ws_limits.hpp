#pragma once

// Limits on what one browser connection may send (plain C++, tested in
// tests/web): frames are put together into messages no larger than the
// configured sizes, and messages are counted against a per-connection rate.
// A connection that breaks a limit is closed with a WebSocket close code
// and a reason (RFC 6455, 7.4.1); one that sends too fast is first refused,
// message by message, and closed if it keeps sending twice the rate.

#include <cstddef>
#include <cstdint>
#include <string>

namespace cafchat {

/// RFC 6455 close codes the console uses.
enum ws_close : uint16_t {
  ws_normal = 1000,
  ws_going_away = 1001,
  ws_protocol_error = 1002,
  ws_unsupported = 1003,
  ws_invalid_data = 1007,
  ws_policy = 1008,
  ws_too_big = 1009,
  ws_try_later = 1013,
};

/// Puts frames together into text messages, within the limits.
class ws_assembler {
public:
  ws_assembler(size_t max_frame_bytes, size_t max_message_bytes)
    : max_frame_(max_frame_bytes), max_message_(max_message_bytes) {}

  struct result {
    enum kind_t { more, message, close } kind = more;
    std::string text;      ///< message: the whole text.
    uint16_t code = 0;     ///< close: why, as a WebSocket close code.
    std::string reason;    ///< close: in words (at most 123 bytes).
  };

  /// One data frame: `bits` is its first byte (FIN and opcode), as civetweb
  /// passes it. Control frames (ping, pong, close) do not come here.
  result feed(int bits, const char* data, size_t len);

private:
  size_t max_frame_;
  size_t max_message_;
  bool in_message_ = false;
  std::string partial_;
};

/// Messages per second per connection: a token bucket of `rate` tokens
/// refilled at `rate` per second.
class ws_rate_limiter {
public:
  explicit ws_rate_limiter(uint32_t rate_per_s);

  enum class verdict { allow, refuse, close };
  /// Counts one message at `now_ms` (a steady clock).
  verdict admit(int64_t now_ms);

private:
  double rate_;
  double tokens_;
  int64_t last_ms_ = -1;
  int64_t window_start_ms_ = 0;
  uint32_t refused_in_window_ = 0;
};

} // namespace cafchat
