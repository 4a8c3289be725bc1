#pragma once

// Timeouts that follow the network, in one small tested helper (RFC 6298,
// TCP's retransmission timer, after Jacobson/Karels): a smoothed round-trip
// time and its mean deviation, estimated from samples, give a timeout of
// SRTT + 4 * RTTVAR, kept within [floor, cap]. Units are whatever the
// caller counts in: ticks in the protocol cores, milliseconds in the client.
// Nothing here reads a clock.
//
//   first sample R:   SRTT := R;  RTTVAR := R / 2
//   later sample R:   RTTVAR := 3/4 RTTVAR + 1/4 |SRTT - R|
//                     SRTT   := 7/8 SRTT + 1/8 R
//                     except that a sample below SRTT counts as at most
//                     RTTVAR away (RTTVAR never grows on a faster
//                     sample): a network that got faster must not keep
//                     the timeout up for many rounds. Slower samples
//                     raise RTTVAR at the full gain, so the margin
//                     against slowness is RFC 6298's.
//   timeout:          clamp(SRTT + 4 RTTVAR, floor, cap)   (floor without
//                     samples: the configured value is the starting point)
//
// Samples come from replies that echo the tick of the request they answer
// (a timestamp, as in TCP's RFC 7323), so a retransmission never makes a
// sample ambiguous. `backoff` doubles a timeout per consecutive failure,
// with jitter so that peers fall out of step, up to the cap; a success
// resets the failure count where the caller keeps it.

#include <algorithm>
#include <cstdint>
#include <random>

namespace cafchat {

class rtt_estimator {
public:
  rtt_estimator() = default;
  rtt_estimator(uint64_t floor, uint64_t cap)
    : floor_(floor), cap_(std::max(floor, cap)) {}

  /// A measured round trip (0 is a valid sample: faster than one tick).
  void sample(uint64_t r) {
    // Kept in 1/8 units so that the gains 1/8 and 1/4 stay exact in integers.
    uint64_t r8 = std::min(r, cap_) * 8;
    if (samples_++ == 0) {
      srtt8_ = r8;
      rttvar8_ = r8 / 2;
      return;
    }
    uint64_t diff = srtt8_ > r8 ? srtt8_ - r8 : r8 - srtt8_;
    if (r8 < srtt8_)
      diff = std::min(diff, rttvar8_); // faster: no wider margin
    rttvar8_ = rttvar8_ - rttvar8_ / 4 + diff / 4;
    srtt8_ = srtt8_ - srtt8_ / 8 + r8 / 8;
  }

  /// SRTT + 4 * RTTVAR, within [floor, cap] (the floor before any sample).
  uint64_t timeout() const {
    if (samples_ == 0)
      return floor_;
    uint64_t t = (srtt8_ + 4 * rttvar8_ + 7) / 8;
    return std::clamp(t, floor_, cap_);
  }

  uint64_t srtt() const { return (srtt8_ + 7) / 8; }
  uint64_t rttvar() const { return (rttvar8_ + 7) / 8; }
  uint64_t samples() const { return samples_; }
  uint64_t floor() const { return floor_; }
  uint64_t cap() const { return cap_; }

private:
  uint64_t floor_ = 1;
  uint64_t cap_ = UINT64_MAX / 16;
  uint64_t srtt8_ = 0;
  uint64_t rttvar8_ = 0;
  uint64_t samples_ = 0;
};

/// `base` doubled per failure (at most 2^20 times), then a uniform jitter of
/// up to a quarter on top, within [1, cap].
template <class Rng>
uint64_t backoff(uint64_t base, uint32_t failures, uint64_t cap, Rng& rng) {
  base = std::max<uint64_t>(base, 1);
  uint64_t t = base;
  for (uint32_t i = 0; i < std::min<uint32_t>(failures, 20) && t < cap; ++i)
    t *= 2;
  t = std::min(t, cap);
  uint64_t jitter = t / 4;
  if (jitter > 0)
    t += std::uniform_int_distribution<uint64_t>(0, jitter)(rng);
  return std::clamp<uint64_t>(t, 1, std::max<uint64_t>(cap, 1));
}

} // namespace cafchat
