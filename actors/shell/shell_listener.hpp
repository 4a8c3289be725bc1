#pragma once

// What the chat shell hears from its client: the listener prints messages
// and notices and keeps the recent history (/history) and how far the
// history download has come; the progress meter shows that download on
// stderr.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/client/client_actor.hpp"
#include "actors/shell/printer.hpp"

namespace cafchat::shell_detail {

/// Turns what the client sees into output, and keeps recent history for
/// /history.
class shell_listener : public client_listener {
public:
  /// The listener shares the printer: the client actor calls it on its own
  /// thread, and may do so until it is gone.
  explicit shell_listener(std::shared_ptr<printer> out)
    : owned_(std::move(out)), out_(*owned_) {}

  void on_entries(const std::vector<chat_entry>& entries) override;

  void on_history(uint64_t upto, uint64_t size) override;

  /// How far the history has come in.
  struct download {
    bool sized = false;  ///< Joined: `target` is known.
    uint64_t target = 0; ///< Entries in the history when we joined.
    uint64_t known = 0;  ///< The most entries the server said it held.
    uint64_t upto = 0;   ///< Every entry up to here is in.
    bool complete() const { return sized && upto >= target; }
  };

  download downloaded() {
    std::lock_guard<std::mutex> guard{mtx_};
    return dl_;
  }

  void on_notice(const client_notice& n) override;

  /// Why the cluster refused this client for good ("name in use"), or "".
  std::string refusal() {
    std::lock_guard<std::mutex> guard{mtx_};
    return refusal_;
  }

  std::vector<chat_entry> recent(size_t n);

  static constexpr size_t recent_max = 10000;

private:
  std::shared_ptr<printer> owned_;
  printer& out_;
  std::mutex mtx_;
  std::deque<chat_entry> recent_;
  download dl_;
  std::string refusal_;
};

/// Shows a history download on stderr once it has taken a second: entries
/// received of entries known, and the rate. Runs in its own thread until
/// the download is complete or the shell ends.
class progress_meter {
public:
  progress_meter(std::shared_ptr<shell_listener> listener, uint64_t from)
    : listener_(std::move(listener)), base_(from - 1),
      thread_([this] { run(); }) {}

  ~progress_meter();

private:
  void run();

  std::shared_ptr<shell_listener> listener_;
  uint64_t base_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_; ///< Last: it starts once the rest is ready.
};

} // namespace cafchat::shell_detail
