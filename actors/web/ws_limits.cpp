#include "actors/web/ws_limits.hpp"

#include <algorithm>

namespace cafchat {

namespace {

ws_assembler::result closing(uint16_t code, std::string reason) {
  ws_assembler::result r;
  r.kind = ws_assembler::result::close;
  r.code = code;
  if (reason.size() > 123) // a close frame's payload is at most 125 bytes
    reason.resize(123);
  r.reason = std::move(reason);
  return r;
}

} // namespace

ws_assembler::result ws_assembler::feed(int bits, const char* data,
                                        size_t len) {
  auto opcode = bits & 0x0F;
  bool fin = (bits & 0x80) != 0;
  if (len > max_frame_)
    return closing(ws_too_big, "frame of " + std::to_string(len)
                                 + " bytes is over the limit of "
                                 + std::to_string(max_frame_));
  if (opcode == 0x2)
    return closing(ws_unsupported, "binary messages are not supported; send "
                                   "JSON text");
  if (opcode == 0x1) {
    if (in_message_)
      return closing(ws_protocol_error, "a new message began before the last "
                                        "one ended");
    in_message_ = true;
    partial_.clear();
  } else if (opcode == 0x0) {
    if (!in_message_)
      return closing(ws_protocol_error, "a continuation frame without a "
                                        "message");
  } else {
    return closing(ws_protocol_error, "unknown opcode " + std::to_string(opcode));
  }
  if (partial_.size() + len > max_message_)
    return closing(ws_too_big, "message of more than "
                                 + std::to_string(max_message_)
                                 + " bytes is over the limit");
  partial_.append(data, len);
  if (!fin)
    return {};
  in_message_ = false;
  result r;
  r.kind = result::message;
  r.text.swap(partial_);
  return r;
}

ws_rate_limiter::ws_rate_limiter(uint32_t rate_per_s)
  : rate_(std::max<uint32_t>(1, rate_per_s)), tokens_(rate_) {}

ws_rate_limiter::verdict ws_rate_limiter::admit(int64_t now_ms) {
  if (last_ms_ >= 0 && now_ms > last_ms_)
    tokens_ = std::min(rate_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_)
                                          / 1000.0);
  last_ms_ = std::max(last_ms_, now_ms);
  if (now_ms - window_start_ms_ >= 1000) {
    window_start_ms_ = now_ms;
    refused_in_window_ = 0;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return verdict::allow;
  }
  // Over the rate: refused. Refusing as many again within one second means
  // the sender ignores the refusals (a flood): close.
  if (++refused_in_window_ >= static_cast<uint32_t>(rate_))
    return verdict::close;
  return verdict::refuse;
}

} // namespace cafchat
