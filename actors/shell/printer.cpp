#include "actors/shell/printer.hpp"

#include <cstdio>
#include <ctime>

#include <unistd.h>

#include "actors/common/event_log.hpp"
#include "actors/common/safe_text.hpp"

namespace cafchat::shell_detail {

// -- times -------------------------------------------------------------------

std::string local_hhmm(uint64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M", &tm);
  return buf;
}

// -- output ------------------------------------------------------------------

void printer::entries(const std::vector<chat_entry>& es) {
  std::vector<std::string> ls;
  ls.reserve(es.size());
  for (auto& e : es)
    ls.push_back(format(e));
  lines(std::move(ls));
}

void printer::notice(const std::string& event, const std::string& text,
                     const ordered_json& fields) {
  if (jsonl_) {
    ordered_json j{{"event", event}};
    for (auto& [k, v] : fields.items())
      j[k] = v;
    if (!text.empty())
      j["detail"] = text;
    to_stdout_or_stderr(json_line(j));
  } else {
    // Notices quote what others sent (names, reasons): escaped like text.
    to_stdout_or_stderr("-- " + terminal_safe(text));
  }
}

void printer::text(const std::string& s) {
  if (!jsonl_)
    line(terminal_safe(s, true));
}

std::deque<std::string> printer::take() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::move(queue_);
}

void printer::direct() {
  std::lock_guard<std::mutex> guard{mtx_};
  interactive_ = false;
  for (auto& s : queue_)
    write_line(s);
  queue_.clear();
  std::fflush(stdout);
}

std::string printer::format(const chat_entry& e) const {
  if (jsonl_)
    return json_line({{"index", e.index},
                      {"slot", e.slot},
                      {"from", e.from},
                      {"seq", e.seq},
                      {"text", e.text},
                      {"client", e.client},
                      {"time", utc_iso8601(e.time_ms)}});
  // Others' names and text cannot move the cursor, ring, recolour, change
  // the text direction or start a new line: those characters show escaped.
  return "[" + std::to_string(e.index) + "] " + local_hhmm(e.time_ms) + " "
         + terminal_safe(e.from) + ": " + terminal_safe(e.text);
}

void printer::to_stdout_or_stderr(std::string s) {
  if (!notices_to_stderr_) {
    line(std::move(s));
    return;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  std::fprintf(stderr, "%s\n", s.c_str());
}

void printer::write_line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

void printer::line(std::string s) {
  std::vector<std::string> one;
  one.push_back(std::move(s));
  lines(std::move(one));
}

void printer::lines(std::vector<std::string> ls) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!interactive_) {
    for (auto& s : ls)
      write_line(s);
    std::fflush(stdout);
    return;
  }
  for (auto& s : ls)
    queue_.push_back(std::move(s));
  char b = 1;
  if (::write(wake_fd_, &b, 1) < 0) {
    // A full pipe already guarantees a wake-up.
  }
}

} // namespace cafchat::shell_detail
