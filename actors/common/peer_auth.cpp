#include "actors/common/peer_auth.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "caf/actor_control_block.hpp"
#include "caf/actor_system.hpp"

#include "actors/common/event_log.hpp"

namespace cafchat {

namespace {

std::atomic<bool> authenticated{false};

struct registry {
  std::shared_mutex mtx;
  std::map<caf::node_id, principal> nodes;
};

registry& reg() {
  static registry r;
  return r;
}

struct refusals {
  std::mutex mtx;
  std::shared_ptr<event_log> log;
  uint32_t node = 0;
  int64_t window_start_ms = 0;
  uint32_t in_window = 0;
  uint64_t suppressed = 0;
};

refusals& ref() {
  static refusals r;
  return r;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

void set_peers_authenticated(bool on) {
  authenticated = on;
}

bool peers_authenticated() {
  return authenticated;
}

bool bind_node(const caf::node_id& node, const principal& who) {
  auto& r = reg();
  std::unique_lock<std::shared_mutex> guard{r.mtx};
  auto i = r.nodes.find(node);
  if (i != r.nodes.end())
    return i->second == who;
  r.nodes.emplace(node, who);
  return true;
}

principal principal_of(const caf::node_id& node, const caf::node_id& self_node) {
  if (node == self_node || node == caf::none)
    return principal::local();
  auto& r = reg();
  {
    std::shared_lock<std::shared_mutex> guard{r.mtx};
    auto i = r.nodes.find(node);
    if (i != r.nodes.end())
      return i->second;
  }
  return authenticated ? principal::unknown() : principal::unauthenticated();
}

principal sender_principal(caf::scheduled_actor* self) {
  auto& src = self->current_sender();
  if (!src)
    return principal::local();
  return principal_of(src->node(), self->home_system().node());
}

void set_refusal_log(std::shared_ptr<event_log> log, uint32_t node) {
  auto& r = ref();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.log = std::move(log);
  r.node = node;
}

void log_refusal(const principal& who, std::string_view what,
                 std::string_view detail) {
  auto& r = ref();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto now = wall_ms();
  if (now - r.window_start_ms >= 1000) {
    r.window_start_ms = now;
    r.in_window = 0;
  }
  if (++r.in_window > 20) {
    ++r.suppressed;
    return;
  }
  if (r.log && r.log->enabled()) {
    auto line = r.log->event(now, r.node, "refused");
    line.field("principal", who.describe()).field("message", std::string{what});
    if (!detail.empty())
      line.field("detail", std::string{detail});
    if (r.suppressed > 0)
      line.field("suppressed_before", r.suppressed);
  } else {
    std::cerr << "cafchat: refused " << what << " from " << who.describe();
    if (!detail.empty())
      std::cerr << " (" << detail << ")";
    std::cerr << std::endl;
  }
  r.suppressed = 0;
}

bool admit(caf::scheduled_actor* self, msg_class c, std::string_view what,
           server_id claimed) {
  auto& src = self->current_sender();
  if (!src || src->node() == self->home_system().node())
    return true; // fast path: this process
  auto who = sender_principal(self);
  if (permitted(who, c, claimed))
    return true;
  std::string detail{to_string(c)};
  if (c == msg_class::peer || c == msg_class::register_server)
    detail += " as server " + std::to_string(claimed);
  log_refusal(who, what, detail);
  return false;
}

} // namespace cafchat
