#include "node/ini.hpp"

#include <sstream>

#include "node/config.hpp"

namespace cafchat {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

ini::ini(const std::string& text, std::string name) : name_(std::move(name)) {
  std::istringstream in{text};
  std::string raw;
  int lineno = 0;
  section* current = nullptr;
  while (std::getline(in, raw)) {
    ++lineno;
    auto line = trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#')
      continue;
    if (line.back() == '{' || line[0] == '}')
      fail(lineno, "brace syntax is not supported; write [section] and "
                   "key = value lines");
    if (line[0] == '[') {
      if (line.back() != ']')
        fail(lineno, "a section header must end with ']'");
      auto sec = trim(line.substr(1, line.size() - 2));
      if (sec.empty())
        fail(lineno, "empty section name");
      if (sections_.count(sec) > 0)
        fail(lineno, "section [" + sec + "] appears twice (first on line "
                       + std::to_string(sections_[sec].line) + ")");
      current = &sections_[sec];
      current->line = lineno;
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos)
      fail(lineno, "expected 'key = value', got '" + line + "'");
    auto key = trim(line.substr(0, eq));
    auto val = strip_comment(trim(line.substr(eq + 1)), lineno);
    if (key.empty())
      fail(lineno, "a line starts with '=' (missing key)");
    if (current == nullptr)
      fail(lineno, "key '" + key + "' is outside any [section]");
    if (current->keys.count(key) > 0)
      fail(lineno, "key '" + key + "' appears twice (first on line "
                     + std::to_string(current->keys[key].line) + ")");
    current->keys[key] = entry{val, lineno, false};
  }
}

void ini::fail(int line, const std::string& what) const {
  throw config_error(name_ + ":" + std::to_string(line) + ": " + what);
}

void ini::fail_key(const std::string& sec, const std::string& key,
                   const std::string& what) const {
  auto e = find(sec, key);
  throw config_error(name_ + ":" + std::to_string(e ? e->line : 0) + ": ["
                     + sec + "] " + key + ": " + what);
}

void ini::fail_plain(const std::string& what) const {
  throw config_error(name_ + ": " + what);
}

const ini::entry* ini::find(const std::string& sec,
                            const std::string& key) const {
  auto s = sections_.find(sec);
  if (s == sections_.end())
    return nullptr;
  auto k = s->second.keys.find(key);
  return k == s->second.keys.end() ? nullptr : &k->second;
}

const std::string* ini::get(const std::string& sec, const std::string& key) {
  auto s = sections_.find(sec);
  if (s == sections_.end())
    return nullptr;
  auto k = s->second.keys.find(key);
  if (k == s->second.keys.end())
    return nullptr;
  k->second.used = true;
  if (k->second.value.empty())
    fail(k->second.line, "[" + sec + "] " + key
                           + ": missing value (delete the line to use the "
                             "default)");
  return &k->second.value;
}

std::vector<std::pair<std::string, const ini::entry*>>
ini::all(const std::string& sec) {
  std::vector<std::pair<std::string, const entry*>> xs;
  auto s = sections_.find(sec);
  if (s == sections_.end())
    return xs;
  for (auto& [k, e] : s->second.keys) {
    e.used = true;
    if (e.value.empty())
      fail(e.line, "[" + sec + "] " + k + ": missing value");
    xs.emplace_back(k, &e);
  }
  return xs;
}

void ini::reject_unknown(const std::set<std::string>& known_sections) const {
  for (auto& [name, sec] : sections_) {
    if (known_sections.count(name) == 0) {
      std::string list;
      for (auto& k : known_sections)
        list += (list.empty() ? "[" : ", [") + k + "]";
      fail(sec.line, "unknown section [" + name + "] (known: " + list + ")");
    }
    for (auto& [key, e] : sec.keys)
      if (!e.used)
        fail(e.line, "unknown key '" + key + "' in [" + name + "]");
  }
}

std::string ini::strip_comment(const std::string& v, int lineno) const {
  if (!v.empty() && v[0] == '"') {
    auto close = v.find('"', 1);
    if (close == std::string::npos)
      fail(lineno, "unterminated quoted value");
    auto rest = trim(v.substr(close + 1));
    if (!rest.empty() && rest[0] != ';' && rest[0] != '#')
      fail(lineno, "text after a quoted value");
    return v.substr(1, close - 1);
  }
  for (size_t i = 1; i < v.size(); ++i)
    if ((v[i] == ';' || v[i] == '#') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
      return trim(v.substr(0, i));
  if (!v.empty() && (v[0] == ';' || v[0] == '#'))
    return {};
  return v;
}

} // namespace cafchat
