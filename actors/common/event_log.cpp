#include "actors/common/event_log.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "actors/common/json.hpp"

namespace cafchat {

std::string utc_iso8601(uint64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03uZ",
                static_cast<unsigned>(ms % 1000));
  return buf;
}

std::shared_ptr<event_log> event_log::open_file(const std::string& path,
                                                clock_fn wall_ms) {
  std::shared_ptr<event_log> log{new event_log};
  log->wall_ms_ = std::move(wall_ms);
  log->file_ = std::fopen(path.c_str(), "a");
  if (log->file_ == nullptr)
    throw std::runtime_error("cannot open event log " + path + ": "
                             + std::strerror(errno));
  return log;
}

std::shared_ptr<event_log> event_log::to_sink(sink_fn fn) {
  std::shared_ptr<event_log> log{new event_log};
  log->sink_ = std::move(fn);
  return log;
}

std::shared_ptr<event_log>
event_log::tee(const std::string& path, clock_fn wall_ms, sink_fn sink,
               std::shared_ptr<const std::atomic<bool>> sink_active) {
  auto log = path.empty() ? std::shared_ptr<event_log>{new event_log}
                          : open_file(path, {});
  log->wall_ms_ = std::move(wall_ms);
  log->sink_ = std::move(sink);
  log->sink_active_ = std::move(sink_active);
  return log;
}

std::shared_ptr<event_log> event_log::null() {
  return std::shared_ptr<event_log>{new event_log};
}

event_log::~event_log() {
  if (file_ != nullptr)
    std::fclose(file_);
}

void event_log::write(const std::string& s) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (file_ != nullptr) {
    std::fwrite(s.data(), 1, s.size(), file_);
    std::fputc('\n', file_);
    // Flushed per line: after a kill -9 the log must show what happened.
    std::fflush(file_);
  }
  if (sink_on())
    sink_(s);
}

event_log::line::line(event_log* log, int64_t t_ms, server_id server,
                      std::string_view event)
  : log_(log) {
  if (log_ == nullptr)
    return;
  obj_ = std::make_unique<ordered_json>(ordered_json::object());
  // Room for the usual fields: one allocation instead of several.
  obj_->get_ref<ordered_json::object_t&>().reserve(12);
  set("t", t_ms);
  if (log_->wall_ms_)
    set("ts", log_->wall_ms_());
  set("server", server);
  set("event", event);
}

event_log::line::~line() {
  if (log_ != nullptr)
    log_->write(json_line(*obj_));
}

template <class T>
event_log::line& event_log::line::set(std::string_view k, T&& v) {
  if (log_ != nullptr)
    (*obj_)[std::string{k}] = std::forward<T>(v);
  return *this;
}

event_log::line& event_log::line::field(std::string_view k, uint64_t v) {
  return set(k, v);
}

event_log::line& event_log::line::field(std::string_view k, int64_t v) {
  return set(k, v);
}

event_log::line& event_log::line::field(std::string_view k, bool v) {
  return set(k, v);
}

event_log::line& event_log::line::field(std::string_view k,
                                        std::string_view v) {
  return set(k, v);
}

event_log::line& event_log::line::field(std::string_view k, const ballot& b) {
  return set(k, b);
}

} // namespace cafchat
