#pragma once

// Helpers for the storage tests: temporary directories, the two backends
// behind one face, and small constructors of the stored structs.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/storage/lmdb_storage.hpp"
#include "actors/storage/memory_storage.hpp"

namespace cafchat::test {

/// A fresh directory under /tmp, removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    char tmpl[] = "/tmp/cafchat-storage-XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& sub) const {
    return (path_ / sub).string();
  }

private:
  std::filesystem::path path_;
};

/// One storage implementation under test. `restart()` is what a server
/// restart does to it: LMDB closes its environment and opens the directory
/// again (as a new process would); memory storage keeps its objects (it
/// survives the actors, not the process).
class backend {
public:
  explicit backend(bool lmdb) : lmdb_(lmdb) { open(); }

  std::string name() const { return lmdb_ ? "lmdb" : "memory"; }
  acceptor_storage& acceptor() { return *s_.acceptor; }
  learner_storage& learner() { return *s_.learner; }

  void restart() {
    if (!lmdb_)
      return;
    s_ = server_storage{}; // closes the environment
    open();
  }

private:
  void open() {
    s_ = lmdb_ ? open_lmdb_storage(dir_ / "server-1", 1)
               : make_memory_storage();
  }

  bool lmdb_;
  temp_dir dir_;
  server_storage s_;
};

inline value text_value(const std::string& text, uint64_t time_ms = 0) {
  return value::of({command{9, 1, "ann", text}}, time_ms);
}

inline accepted_slot acc(uint64_t slot, ballot bal, const std::string& text) {
  return accepted_slot{slot, bal, text_value(text)};
}

inline decide dec(uint64_t slot, const std::string& text) {
  return decide{slot, text.empty() ? value::noop() : text_value(text)};
}

inline chat_entry entry(uint64_t index, uint64_t slot,
                        const std::string& text, uint64_t time_ms = 0) {
  return chat_entry{index, slot, 9, index, "ann", text, time_ms};
}

/// The texts of accepted slots, as "slot:text@round", to compare in one go.
inline std::vector<std::string> show(const std::vector<accepted_slot>& xs) {
  std::vector<std::string> out;
  for (auto& a : xs)
    out.push_back(std::to_string(a.slot) + ":"
                  + (a.val.commands.empty() ? "" : a.val.commands[0].text)
                  + "@" + std::to_string(a.bal.round));
  return out;
}

inline std::vector<uint64_t> slots_of(const std::vector<decide>& xs) {
  std::vector<uint64_t> out;
  for (auto& d : xs)
    out.push_back(d.slot);
  return out;
}

inline std::vector<uint64_t> indexes_of(const std::vector<chat_entry>& xs) {
  std::vector<uint64_t> out;
  for (auto& e : xs)
    out.push_back(e.index);
  return out;
}

} // namespace cafchat::test
