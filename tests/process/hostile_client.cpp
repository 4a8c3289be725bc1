// cafchat-hostile: a client that breaks the rules on purpose, for
// tests/process/test_limits.py. It speaks the client protocol itself (no
// client_actor, so none of its manners) against the multi-process cluster
// FILE describes, and prints one JSON object with what it saw.
//
//   cafchat-hostile --config FILE bigname BYTES
//       asks the load balancer for a server under a name of BYTES bytes
//   cafchat-hostile --config FILE flood NAME RATE SECONDS
//       sends RATE new messages a second for SECONDS, ignoring the pace the
//       server asks for, and counts refusals and deliveries
//   cafchat-hostile --config FILE noread NAME SECONDS
//       takes history in but never confirms it (`received`), until the
//       session closes or SECONDS pass; then resumes from its last index
//   cafchat-hostile --config FILE ackblind NAME SECONDS
//       downloads the history, confirms everything it is sent (`received`
//       with the highest index there is) but stops reading its sockets: the
//       session's queue bound sees a perfect reader, only the connection's
//       backlog bound ([limits] connection_backlog_max_bytes) can stop the
//       server's buffer from growing; reports whether the connection ended
//   cafchat-hostile --config FILE impersonate NAME VICTIM_ID FROM COUNT
//       submits COUNT messages as client VICTIM_ID (seqs FROM...) through its
//       own session
//
// Exit code 0 when it ran (what it saw is in the JSON), 2 on bad usage.

#include <dlfcn.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include <nlohmann/json.hpp>

#include "actors/common/client_key.hpp"
#include "messages/client.hpp"
#include "messages/control.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"

using namespace cafchat;
using clk = std::chrono::steady_clock;

// -- ackblind: a process that stops reading its sockets -------------------------
//
// CAF's multiplexer reads every socket as data arrives; these stand in front
// of libc's recv and connect for this program (symbol interposition, as
// node/net_guard.cpp does) so that it can stop.

namespace {

std::atomic<bool> blind{false};        ///< recv takes nothing in.
std::atomic<bool> small_buffers{false}; ///< New sockets get a 4 KiB rcvbuf.

} // namespace

extern "C" ssize_t recv(int fd, void* buf, size_t n, int flags) {
  static auto real = reinterpret_cast<ssize_t (*)(int, void*, size_t, int)>(
    dlsym(RTLD_NEXT, "recv"));
  if (blind) {
    // "Nothing yet", slowly: the multiplexer asks again and again.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    errno = EAGAIN;
    return -1;
  }
  return real(fd, buf, n, flags);
}

extern "C" int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  static auto real = reinterpret_cast<int (*)(int, const struct sockaddr*,
                                              socklen_t)>(
    dlsym(RTLD_NEXT, "connect"));
  if (small_buffers) {
    // The kernel holds less for us: the server's own buffers fill sooner.
    int size = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  return real(fd, addr, len);
}

namespace {

struct hostile {
  caf::actor_system& sys;
  caf::actor lb;
  caf::scoped_actor self;
  std::string key = new_client_key();
  std::string name;
  caf::actor session;
  uint64_t id = 0;
  uint64_t last_index = 0;
  nlohmann::json out = nlohmann::json::object();

  hostile(caf::actor_system& s, caf::actor l) : sys(s), lb(std::move(l)), self(s) {}

  /// Asks for a server and opens a session; "" or why not.
  std::string connect(uint64_t resume_after = 0) {
    std::string why;
    assignment a;
    bool ok = false;
    self->request(lb, std::chrono::seconds(10),
                  assign_request{key, name, caf::actor{self}, 0})
      .receive([&](assignment& x) { a = std::move(x); ok = true; },
               [&](caf::error& e) { why = describe(e); });
    if (!ok)
      return why;
    if (a.server.port != 0) {
      // A connection of our own to the server's node, as caf-chat makes.
      auto r = sys.middleman().remote_actor(a.server.host, a.server.port);
      static_cast<void>(r);
    }
    self->request(a.server.front, std::chrono::seconds(10),
                  hello{key, name, resume_after, caf::actor{self}})
      .receive(
        [&](welcome& w) {
          session = w.session;
          id = w.client;
          self->monitor(session);
        },
        [&](caf::error& e) { why = describe(e); });
    return why;
  }
};

int usage() {
  std::cerr << "usage: cafchat-hostile --config FILE MODE ARGS (see the "
               "source: tests/process/hostile_client.cpp)\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::string{argv[1]} != "--config")
    return usage();
  node_config cfg;
  try {
    cfg = load_config(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "cafchat-hostile: " << e.what() << "\n";
    return 2;
  }
  std::string mode = argv[3];
  if (mode == "ackblind") {
    // No BASP heartbeats and no timeout here: this client must not give up
    // on the server only because it stopped reading it.
    cfg.heartbeat_interval_ms = 0;
    cfg.connection_timeout_ms = 0;
  }
  caf::actor_system_config sys_cfg;
  configure_runtime(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  auto& ep = cfg.nodes.at("lb");
  auto lb = sys.middleman().remote_actor(ep.host, ep.port);
  if (!lb) {
    std::cerr << "cafchat-hostile: no load balancer\n";
    return 1;
  }
  hostile h{sys, *lb};
  auto& out = h.out;
  out["mode"] = mode;
  if (mode == "bigname") {
    h.name = std::string(std::stoul(argv[4]), 'n');
    auto why = h.connect();
    out["refused"] = !why.empty();
    out["reason"] = why;
  } else if (mode == "flood" && argc == 7) {
    h.name = argv[4];
    auto rate = std::stoul(argv[5]);
    auto secs = std::stod(argv[6]);
    auto why = h.connect();
    if (!why.empty()) {
      std::cerr << "cafchat-hostile: " << why << "\n";
      return 1;
    }
    uint64_t seq = 0, refused = 0, delivered_own = 0, other = 0;
    std::string reason;
    auto start = clk::now();
    auto end = start + std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
    auto next = start;
    // Every 10 ms, the messages that RATE a second means; then a second more
    // to hear the last answers.
    while (clk::now() < end + std::chrono::seconds(2)) {
      auto now = clk::now();
      if (now < end && now >= next) {
        submit s;
        for (uint64_t i = 0; i < std::max<uint64_t>(1, rate / 100); ++i) {
          ++seq;
          s.commands.push_back({h.id, seq, "", "flood " + std::to_string(seq)});
        }
        caf::anon_send(h.session, std::move(s));
        next += std::chrono::milliseconds(10);
      }
      h.self->receive(
        [&](const delivered& d) {
          for (auto& e : d.entries) {
            h.last_index = std::max(h.last_index, e.index);
            if (e.client == h.id)
              ++delivered_own;
            else
              ++other;
          }
          caf::anon_send(h.session, received{h.last_index});
        },
        [&](const rejected& r) {
          ++refused;
          if (reason.empty())
            reason = r.reason;
        },
        [](const acknowledged&) {},
        [](const caf::down_msg&) {},
        caf::after(std::chrono::milliseconds(1)) >> [] {});
    }
    out["sent"] = seq;
    out["refused"] = refused;
    out["delivered_own"] = delivered_own;
    out["delivered_other"] = other;
    out["reason"] = reason;
    out["client"] = h.id;
  } else if (mode == "noread" && argc == 6) {
    h.name = argv[4];
    auto secs = std::stod(argv[5]);
    auto why = h.connect();
    if (!why.empty()) {
      std::cerr << "cafchat-hostile: " << why << "\n";
      return 1;
    }
    bool closed = false;
    std::string reason;
    uint64_t entries = 0;
    auto end = clk::now() + std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
    while (!closed && clk::now() < end)
      h.self->receive(
        [&](const delivered& d) {
          // Taken in, never confirmed.
          entries += d.entries.size();
          for (auto& e : d.entries)
            h.last_index = std::max(h.last_index, e.index);
        },
        [&](const rejected& r) {
          if (r.seq == 0)
            reason = r.reason;
        },
        [](const acknowledged&) {},
        [&](const caf::down_msg& dm) {
          if (dm.source == h.session.address())
            closed = true;
        },
        caf::after(std::chrono::milliseconds(10)) >> [] {});
    out["closed"] = closed;
    out["reason"] = reason;
    out["entries"] = entries;
    out["last_index"] = h.last_index;
    if (closed) {
      // The same client (same key) comes back and resumes.
      auto resume = h.last_index;
      auto again = h.connect(resume);
      out["resumed"] = again.empty();
      out["resume_error"] = again;
      uint64_t first = 0;
      h.self->receive(
        [&](const delivered& d) {
          if (!d.entries.empty())
            first = d.entries.front().index;
        },
        caf::after(std::chrono::seconds(5)) >> [] {});
      out["resumed_at"] = first;
      out["resumed_after"] = resume;
    }
  } else if (mode == "ackblind" && argc == 6) {
    h.name = argv[4];
    auto secs = std::stod(argv[5]);
    small_buffers = true;
    auto why = h.connect();
    if (!why.empty()) {
      std::cerr << "cafchat-hostile: " << why << "\n";
      return 1;
    }
    blind = true;
    bool closed = false;
    auto end = clk::now()
               + std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
    auto lie = received{uint64_t{1} << 62}; // "read it all", always
    while (!closed && clk::now() < end) {
      caf::anon_send(h.session, lie);
      h.self->receive(
        [&](const caf::down_msg& dm) {
          if (dm.source == h.session.address())
            closed = true;
        },
        [](const delivered&) {}, [](const rejected&) {},
        [](const acknowledged&) {},
        caf::after(std::chrono::milliseconds(20)) >> [] {});
    }
    out["closed"] = closed;
    blind = false;
  } else if (mode == "impersonate" && argc == 8) {
    h.name = argv[4];
    auto victim = std::stoull(argv[5]);
    auto from = std::stoull(argv[6]);
    auto count = std::stoull(argv[7]);
    auto why = h.connect();
    if (!why.empty()) {
      std::cerr << "cafchat-hostile: " << why << "\n";
      return 1;
    }
    submit s;
    for (uint64_t i = 0; i < count; ++i)
      s.commands.push_back({victim, from + i, "", "forged " + std::to_string(i)});
    caf::anon_send(h.session, std::move(s));
    uint64_t refused = 0;
    std::string reason;
    auto end = clk::now() + std::chrono::seconds(3);
    while (clk::now() < end && refused < count)
      h.self->receive(
        [&](const rejected& r) {
          if (r.client == h.id && r.seq >= from) {
            ++refused;
            reason = r.reason;
          }
        },
        [&](const delivered& d) {
          for (auto& e : d.entries)
            h.last_index = std::max(h.last_index, e.index);
          caf::anon_send(h.session, received{h.last_index});
        },
        [](const acknowledged&) {}, [](const caf::down_msg&) {},
        caf::after(std::chrono::milliseconds(10)) >> [] {});
    out["refused"] = refused;
    out["reason"] = reason;
    out["client"] = h.id;
  } else {
    return usage();
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
