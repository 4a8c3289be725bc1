#pragma once

// The structured event log: one JSON object per line, the machine-readable
// form of a paxos.log. Every line has "t" (milliseconds on the actor clock,
// which is simulated time under test), "server" and "event"; the rest depends
// on the event. Thread-safe: a server's roles share one log.
//
//   {"t":1234,"server":2,"event":"promise","ballot":[3,1],"first_slot":7}
//
// Files written by caf-node add "ts", the wall-clock time in Unix ms.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "messages/paxos.hpp"

namespace cafchat {

/// "2025-01-31T09:15:02.137Z": ISO 8601 in UTC with milliseconds, for Unix
/// milliseconds `ms` (how chat clients write an entry's time).
std::string utc_iso8601(uint64_t ms);

class event_log {
public:
  using sink_fn = std::function<void(const std::string&)>;

  using clock_fn = std::function<int64_t()>;

  /// Appends to `path` (created if missing); throws std::runtime_error with
  /// the path and the OS error if it cannot be opened. With `wall_ms` every
  /// line also gets "ts": Unix milliseconds from that clock (node/ passes the
  /// system clock; nothing below node/ reads the wall clock).
  static std::shared_ptr<event_log> open_file(const std::string& path,
                                              clock_fn wall_ms = {});
  /// Calls `fn` with every line (tests, `tools/simulate --trace`).
  static std::shared_ptr<event_log> to_sink(sink_fn fn);
  /// A log that drops everything.
  static std::shared_ptr<event_log> null();
  /// Writes to `path` (none if empty), like open_file, and also hands every
  /// line to `sink` while `*sink_active` is true (the web console's event
  /// feed, actors/web/event_tap.hpp). Lines are built only when one of the
  /// two wants them.
  static std::shared_ptr<event_log>
  tee(const std::string& path, clock_fn wall_ms, sink_fn sink,
      std::shared_ptr<const std::atomic<bool>> sink_active);

  ~event_log();

  bool enabled() const { return file_ != nullptr || sink_on(); }

  /// Builds one line, a JSON object with its keys in the order given; it is
  /// written (actors/common/json.hpp, json_line) when the builder goes out
  /// of scope.
  class line {
  public:
    line(event_log* log, int64_t t_ms, server_id server, std::string_view event);
    line(line&&) = delete;
    ~line();
    line& field(std::string_view key, uint64_t v);
    line& field(std::string_view key, int64_t v);
    line& field(std::string_view key, uint32_t v) { return field(key, uint64_t{v}); }
    line& field(std::string_view key, int v) { return field(key, int64_t{v}); }
    line& field(std::string_view key, bool v);
    line& field(std::string_view key, std::string_view v);
    line& field(std::string_view key, const char* v) {
      return field(key, std::string_view{v});
    }
    line& field(std::string_view key, const ballot& b);

  private:
    template <class T>
    line& set(std::string_view key, T&& v);
    event_log* log_;
    std::unique_ptr<nlohmann::ordered_json> obj_; ///< Null if disabled.
  };

  line event(int64_t t_ms, server_id server, std::string_view name) {
    return line{enabled() ? this : nullptr, t_ms, server, name};
  }

private:
  event_log() = default;
  void write(const std::string& s);
  bool sink_on() const {
    return sink_ && (!sink_active_ || sink_active_->load(std::memory_order_relaxed));
  }

  std::mutex mtx_;
  std::FILE* file_ = nullptr;
  sink_fn sink_;
  std::shared_ptr<const std::atomic<bool>> sink_active_; ///< Null: always.
  clock_fn wall_ms_;
};

using event_log_ptr = std::shared_ptr<event_log>;

/// Where every line of a node's logs also goes, besides its file (the web
/// console's event tap); empty: nowhere.
struct log_tee {
  event_log::sink_fn sink;
  std::shared_ptr<const std::atomic<bool>> active;
  explicit operator bool() const { return static_cast<bool>(sink); }
};

} // namespace cafchat
