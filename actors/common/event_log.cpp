#include "actors/common/event_log.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

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

void json_escape(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
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
  buf_.reserve(128);
  buf_ += "{\"t\":";
  buf_ += std::to_string(t_ms);
  if (log_->wall_ms_) {
    buf_ += ",\"ts\":";
    buf_ += std::to_string(log_->wall_ms_());
  }
  buf_ += ",\"server\":";
  buf_ += std::to_string(server);
  buf_ += ",\"event\":\"";
  json_escape(buf_, event);
  buf_ += '"';
}

event_log::line::~line() {
  if (log_ == nullptr)
    return;
  buf_ += '}';
  log_->write(buf_);
}

void event_log::line::key(std::string_view k) {
  buf_ += ",\"";
  json_escape(buf_, k);
  buf_ += "\":";
}

event_log::line& event_log::line::field(std::string_view k, uint64_t v) {
  if (log_ != nullptr) {
    key(k);
    buf_ += std::to_string(v);
  }
  return *this;
}

event_log::line& event_log::line::field(std::string_view k, int64_t v) {
  if (log_ != nullptr) {
    key(k);
    buf_ += std::to_string(v);
  }
  return *this;
}

event_log::line& event_log::line::field(std::string_view k, bool v) {
  if (log_ != nullptr) {
    key(k);
    buf_ += v ? "true" : "false";
  }
  return *this;
}

event_log::line& event_log::line::field(std::string_view k,
                                        std::string_view v) {
  if (log_ != nullptr) {
    key(k);
    buf_ += '"';
    json_escape(buf_, v);
    buf_ += '"';
  }
  return *this;
}

event_log::line& event_log::line::field(std::string_view k, const ballot& b) {
  if (log_ != nullptr) {
    key(k);
    buf_ += '[';
    buf_ += std::to_string(b.round);
    buf_ += ',';
    buf_ += std::to_string(b.node);
    buf_ += ']';
  }
  return *this;
}

} // namespace cafchat
