#include "actors/shell/shell_listener.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace cafchat::shell_detail {

// -- the listener ------------------------------------------------------------

void shell_listener::on_entries(const std::vector<chat_entry>& entries) {
  // Printed first, outside the lock: a stdout that blocks (a full pipe)
  // must not hold up /history or the progress meter.
  out_.entries(entries);
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : entries) {
    recent_.push_back(e);
    if (recent_.size() > recent_max)
      recent_.pop_front();
  }
  if (!entries.empty())
    dl_.upto = std::max(dl_.upto, entries.back().index);
}

void shell_listener::on_history(uint64_t upto, uint64_t size) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!dl_.sized) {
    dl_.sized = true;
    dl_.target = size;
  }
  dl_.known = std::max(dl_.known, size);
  dl_.upto = std::max(dl_.upto, upto);
}

void shell_listener::on_notice(const client_notice& n) {
  auto f = ordered_json::object();
  if (n.server != 0)
    f["server"] = n.server;
  if (n.seq != 0)
    f["seq"] = n.seq;
  std::string text;
  std::string event = to_string(n.event);
  switch (n.event) {
    case notice_kind::connected:
      text = "connected to server " + std::to_string(n.server);
      break;
    case notice_kind::server_lost:
      text = "server " + std::to_string(n.server) + " is gone: " + n.detail;
      break;
    case notice_kind::waiting:
      text = "waiting for the cluster: " + n.detail;
      break;
    case notice_kind::rejected:
      text = "message " + std::to_string(n.seq) + " refused: " + n.detail;
      break;
    case notice_kind::refused: {
      text = "refused by the cluster: " + n.detail;
      std::lock_guard<std::mutex> guard{mtx_};
      refusal_ = n.detail.empty() ? "refused" : n.detail;
      break;
    }
    default:
      text = event + ": " + n.detail;
  }
  if (out_.jsonl()) {
    out_.notice(event, n.detail, f);
  } else {
    out_.notice(event, text, f);
  }
}

std::vector<chat_entry> shell_listener::recent(size_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  n = std::min(n, recent_.size());
  return {recent_.end() - static_cast<std::ptrdiff_t>(n), recent_.end()};
}

// -- the progress meter ------------------------------------------------------

progress_meter::~progress_meter() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void progress_meter::run() {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  bool shown = false;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    bool stopping = cv_.wait_for(lock, std::chrono::milliseconds(250),
                                 [this] { return stop_; });
    auto d = listener_->downloaded();
    auto secs = std::chrono::duration<double>(clock::now() - start).count();
    auto got = d.upto > base_ ? d.upto - base_ : 0;
    if (d.complete() || stopping) {
      if (shown)
        std::fprintf(stderr, "\rhistory: %llu entries in %.1f s%s\x1b[K\n",
                     static_cast<unsigned long long>(got), secs,
                     d.complete() ? "" : ", incomplete");
      return;
    }
    if (secs < 1.0)
      continue;
    shown = true;
    auto known = std::max(d.known, d.target);
    std::fprintf(stderr, "\rhistory: %llu of %llu entries, %.0f/s\x1b[K",
                 static_cast<unsigned long long>(got),
                 static_cast<unsigned long long>(known > base_ ? known - base_
                                                               : 0),
                 static_cast<double>(got) / secs);
  }
}

} // namespace cafchat::shell_detail
