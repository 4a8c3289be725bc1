#include "actors/web/event_tap.hpp"

#include <algorithm>

namespace cafchat {

namespace {

/// The unsigned number after `key` in `line`, if any.
std::optional<uint64_t> number_after(std::string_view line,
                                     std::string_view key) {
  auto pos = line.find(key);
  if (pos == std::string_view::npos)
    return std::nullopt;
  pos += key.size();
  uint64_t n = 0;
  size_t digits = 0;
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9'
         && digits < 19) {
    n = n * 10 + static_cast<uint64_t>(line[pos] - '0');
    ++pos;
    ++digits;
  }
  if (digits == 0)
    return std::nullopt;
  return n;
}

} // namespace

event_tap::event_tap(options opts)
  : opts_(opts), active_(std::make_shared<std::atomic<bool>>(false)) {
  opts_.max_stride = std::max<uint32_t>(1, opts_.max_stride);
}

std::string_view event_tap::event_name(std::string_view line) {
  constexpr std::string_view key = "\"event\":\"";
  auto pos = line.find(key);
  if (pos == std::string_view::npos)
    return {};
  pos += key.size();
  auto end = line.find('"', pos);
  if (end == std::string_view::npos)
    return {};
  return line.substr(pos, end - pos);
}

bool event_tap::is_slot_event(std::string_view event) {
  return event == "propose" || event == "accepted" || event == "decision"
         || event == "delivered";
}

std::optional<std::pair<uint64_t, uint64_t>>
event_tap::slot_range(std::string_view line) {
  if (auto s = number_after(line, ",\"slot\":"))
    return std::make_pair(*s, *s);
  auto first = number_after(line, ",\"first_slot\":");
  auto last = number_after(line, ",\"last_slot\":");
  if (first && last && *first <= *last)
    return std::make_pair(*first, *last);
  return std::nullopt;
}

bool event_tap::sampled(uint64_t first, uint64_t last, uint32_t stride) {
  if (stride <= 1)
    return true;
  return (last / stride) * stride >= first;
}

void event_tap::push(std::string_view line) {
  if (!active())
    return;
  auto event = event_name(line);
  bool slot_event = is_slot_event(event);
  std::optional<std::pair<uint64_t, uint64_t>> range;
  if (slot_event)
    range = slot_range(line);
  std::lock_guard<std::mutex> guard{mtx_};
  ++seen_;
  if (slot_event && range && !sampled(range->first, range->second, stride_)) {
    ++dropped_;
    return;
  }
  if (lines_.size() >= opts_.max_lines) {
    ++dropped_;
    return;
  }
  if (slot_event)
    ++slot_events_;
  lines_.emplace_back(line);
}

event_tap::batch event_tap::drain() {
  std::lock_guard<std::mutex> guard{mtx_};
  batch b;
  b.lines.swap(lines_);
  b.stride = stride_;
  b.seen = seen_;
  b.dropped = dropped_;
  if (slot_events_ > opts_.budget)
    stride_ = std::min(opts_.max_stride, stride_ * 2);
  else if (slot_events_ < opts_.budget / 4 && stride_ > 1)
    stride_ /= 2;
  seen_ = 0;
  dropped_ = 0;
  slot_events_ = 0;
  return b;
}

uint32_t event_tap::stride() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stride_;
}

} // namespace cafchat
