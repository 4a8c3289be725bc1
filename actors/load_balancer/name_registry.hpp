#pragma once

// The names of the live clients, kept by the load balancer: a name belongs
// to one client id at a time. Without TLS this is what makes names unique; a
// client that reconnects (same key, so the same id) keeps its name. Pure: no
// CAF, so tests drive it directly.

#include <cstdint>
#include <map>
#include <string>

namespace cafchat {

class name_registry {
public:
  /// What a refused claim says.
  static constexpr const char* in_use = "name in use";

  /// Gives `name` to client `id`, which gives up any other name it held;
  /// "" if it has it now, else why not ("name in use: ...").
  std::string claim(const std::string& name, uint64_t id) {
    auto i = by_name_.find(name);
    if (i != by_name_.end() && i->second != id)
      return std::string{in_use} + ": another client is connected as '"
             + name + "'";
    release(id);
    by_name_[name] = id;
    by_client_[id] = name;
    return {};
  }

  /// Client `id` is gone: its name is free again.
  void release(uint64_t id) {
    auto i = by_client_.find(id);
    if (i == by_client_.end())
      return;
    by_name_.erase(i->second);
    by_client_.erase(i);
  }

  /// The client holding `name`, or 0.
  uint64_t holder(const std::string& name) const {
    auto i = by_name_.find(name);
    return i == by_name_.end() ? 0 : i->second;
  }

  size_t size() const { return by_name_.size(); }

private:
  std::map<std::string, uint64_t> by_name_;
  std::map<uint64_t, std::string> by_client_;
};

} // namespace cafchat
