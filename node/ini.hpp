#pragma once

// A tiny strict INI reader for node/config.cpp: [section], key = value, ; or
// # comments (whole-line, or after whitespace), "quoted values". It knows no
// keys: it remembers where each one was and which were asked for, so that
// every mistake names the file, line, section and key.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cafchat {

class ini {
public:
  struct entry {
    std::string value;
    int line = 0;
    bool used = false;
  };

  /// Reads `text`; throws config_error naming `name` and the line.
  ini(const std::string& text, std::string name);

  [[noreturn]] void fail(int line, const std::string& what) const;
  /// "name:line: [sec] key: what", the line of `key` (0 if it is absent).
  [[noreturn]] void fail_key(const std::string& sec, const std::string& key,
                             const std::string& what) const;
  [[noreturn]] void fail_plain(const std::string& what) const;

  const entry* find(const std::string& sec, const std::string& key) const;

  /// The raw value, marking the key as known; nullptr if absent. An empty
  /// value is an error.
  const std::string* get(const std::string& sec, const std::string& key);

  /// Every key of a free-form section, marked known.
  std::vector<std::pair<std::string, const entry*>> all(const std::string& sec);

  /// Fails on the first section or key nobody asked for (a typo).
  void reject_unknown(const std::set<std::string>& known_sections) const;

private:
  struct section {
    int line = 0;
    std::map<std::string, entry> keys;
  };

  std::string strip_comment(const std::string& v, int lineno) const;

  std::string name_;
  std::map<std::string, section> sections_;
};

} // namespace cafchat
