#pragma once

// A token bucket: `rate` tokens a second, at most `burst` saved up. Each
// command a client submits takes one; with none left it is refused. Pure:
// the caller says what time it is (milliseconds on any steady clock).

#include <algorithm>
#include <cstdint>

namespace cafchat {

class token_bucket {
public:
  /// rate 0: no limit.
  token_bucket(uint32_t rate_per_s = 0, uint32_t burst = 0)
    : rate_(rate_per_s), burst_(std::max(burst, rate_per_s > 0 ? 1u : 0u)),
      milli_tokens_(static_cast<uint64_t>(burst_) * 1000) {}

  bool unlimited() const { return rate_ == 0; }

  /// Takes one token at time `now_ms`; false (and nothing taken) if none is
  /// left.
  bool take(int64_t now_ms) {
    if (unlimited())
      return true;
    refill(now_ms);
    if (milli_tokens_ < 1000)
      return false;
    milli_tokens_ -= 1000;
    return true;
  }

  /// Whole tokens left at `now_ms`.
  uint64_t available(int64_t now_ms) {
    if (unlimited())
      return UINT64_MAX;
    refill(now_ms);
    return milli_tokens_ / 1000;
  }

  uint32_t rate() const { return rate_; }
  uint32_t burst() const { return burst_; }

private:
  void refill(int64_t now_ms) {
    if (!started_) {
      started_ = true;
      last_ms_ = now_ms;
      return;
    }
    if (now_ms <= last_ms_)
      return; // a clock that went back adds nothing
    auto elapsed = static_cast<uint64_t>(now_ms - last_ms_);
    last_ms_ = now_ms;
    // rate tokens per 1000 ms = rate milli-tokens per ms.
    uint64_t cap = static_cast<uint64_t>(burst_) * 1000;
    uint64_t add = elapsed >= cap ? cap : elapsed * rate_;
    milli_tokens_ = std::min(cap, milli_tokens_ + add);
  }

  uint32_t rate_;
  uint32_t burst_;
  uint64_t milli_tokens_;
  int64_t last_ms_ = 0;
  bool started_ = false;
};

} // namespace cafchat
