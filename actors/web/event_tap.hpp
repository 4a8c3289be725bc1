#pragma once

// The event tap: where a node's event-log lines wait for the web console.
// Every event log of the node hands it each line (any thread: the logs call
// push() under their own lock); the node's event feed actor drains it a few
// times a second and sends the batch to the subscribed gateways.
//
// Bounded and sampled, because a browser cannot draw tens of thousands of
// events a second: between two drains it keeps at most `max_lines` lines,
// and the "slot events" (propose, accepted, decision, delivered), which grow
// with the chat rate, are kept for one slot in `stride` only. Everything
// else (elections, promises, nacks, leader changes, crashes) is rare and
// always kept, up to the cap. The stride doubles when one drain kept more
// than `budget` slot events and halves when it kept fewer than a quarter of
// that; the batch says which stride was in force and how many lines were
// not kept, so the page can say that it samples. Whole slots are kept, so a
// slot that is shown is shown with its whole path.
//
// Plain C++ with no CAF include (tests/web checks it directly). Inactive
// (no gateway subscribed), push() returns at once and the logs do not even
// build lines they would not write otherwise.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cafchat {

class event_tap {
public:
  struct options {
    size_t max_lines = 1000;   ///< Kept between two drains, at most.
    /// Slot events per drain before sampling more: at 5 drains a second,
    /// some 500 a second, which a browser draws without taking the CPU the
    /// cluster needs (the diagram shows a few dozen rows anyway).
    size_t budget = 100;
    uint32_t max_stride = 1u << 20;
  };

  struct batch {
    std::vector<std::string> lines;
    uint32_t stride = 1;  ///< In force while these lines came in.
    uint64_t seen = 0;    ///< Lines pushed since the last drain.
    uint64_t dropped = 0; ///< Of those, not kept.
  };

  event_tap() : event_tap(options{}) {}
  explicit event_tap(options opts);

  /// Called by the event logs with every line (any thread).
  void push(std::string_view line);

  /// Takes what was kept since the last drain and adapts the stride.
  batch drain();

  void set_active(bool on) { active_->store(on); }
  bool active() const { return active_->load(); }
  /// For event_log::tee: the logs build lines for the tap only while set.
  std::shared_ptr<const std::atomic<bool>> active_flag() const {
    return active_;
  }

  uint32_t stride() const;

  /// The event name of a log line ("" if it has none).
  static std::string_view event_name(std::string_view line);
  /// Whether the event grows with the chat rate (and so is sampled).
  static bool is_slot_event(std::string_view event);
  /// The slots a line is about: [slot, slot], or [first_slot, last_slot] for
  /// "delivered"; nothing if it names none.
  static std::optional<std::pair<uint64_t, uint64_t>>
  slot_range(std::string_view line);
  /// Whether [first, last] holds a multiple of `stride` (a sampled slot).
  static bool sampled(uint64_t first, uint64_t last, uint32_t stride);

private:
  options opts_;
  std::shared_ptr<std::atomic<bool>> active_;
  mutable std::mutex mtx_;
  std::vector<std::string> lines_;
  uint32_t stride_ = 1;
  uint64_t seen_ = 0;
  uint64_t dropped_ = 0;
  size_t slot_events_ = 0; ///< Kept since the last drain.
};

} // namespace cafchat
