#pragma once

// The chat shell's output: chat messages and notices as text ("[index]
// HH:MM name: text", "-- notice") or as JSON lines (--output jsonl; the line
// formats are in actors/shell/shell.hpp). In interactive mode lines are
// queued for the readline loop, which prints them above the prompt.

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "actors/common/json.hpp"
#include "messages/client.hpp"

namespace cafchat::shell_detail {

/// "09:15" in the local time zone, for Unix milliseconds `ms`.
std::string local_hhmm(uint64_t ms);

/// All output goes through here: JSON lines or text, to stdout; in
/// interactive mode lines are queued and printed above the readline prompt by
/// the main loop, which a byte on `wake_fd` wakes up. Notices go to stderr
/// instead when stdout holds only the history (--history).
class printer {
public:
  printer(bool jsonl, bool interactive, int wake_fd, bool notices_to_stderr)
    : jsonl_(jsonl), interactive_(interactive), wake_fd_(wake_fd),
      notices_to_stderr_(notices_to_stderr) {}

  void entry(const chat_entry& e) { line(format(e)); }

  /// Several entries at once, in one write.
  void entries(const std::vector<chat_entry>& es);

  /// A notice: JSON {"event":..., fields..., "detail":text} or "-- text".
  void notice(const std::string& event, const std::string& text,
              const ordered_json& fields = ordered_json::object());

  /// Plain text output of a command (text mode only); its lines may quote
  /// names and text, so control characters show escaped (newlines stay).
  void text(const std::string& s);

  /// A JSON line (jsonl mode only).
  void json(const ordered_json& j) {
    if (jsonl_)
      line(json_line(j));
  }

  void error(const std::string& msg) { notice("error", "error: " + msg); }

  /// Interactive mode: takes the queued lines.
  std::deque<std::string> take();

  /// Interactive mode is over (readline is gone): the queued lines and every
  /// later one go straight to stdout, with no prompt redrawn around them.
  void direct();

  bool jsonl() const { return jsonl_; }

private:
  std::string format(const chat_entry& e) const;
  void to_stdout_or_stderr(std::string s);
  static void write_line(const std::string& s);
  void line(std::string s);
  void lines(std::vector<std::string> ls);

  bool jsonl_;
  bool interactive_;
  int wake_fd_;
  bool notices_to_stderr_;
  std::mutex mtx_;
  std::deque<std::string> queue_;
};

} // namespace cafchat::shell_detail
