// caf-rtt: the cost of one bare CAF request/reply between two processes on
// loopback, under given runtime settings, to show where cross-process time
// goes (docs/performance.md).
//
//   caf-rtt [--count N] [--policy stealing|sharing] [--threads N]
//           [--workers N] [--json]
//   caf-rtt --raw [--count N] [--json]
//
// It forks an echo server (publishing an actor on a free port), sends N
// sequential requests from an event-based actor, and prints the median and
// tail round trip. Both processes use the same settings. With --raw, the
// floor under that: the same ping-pong of 64 bytes over a plain blocking TCP
// socket (TCP_NODELAY), no CAF.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"

#include "actors/common/json.hpp"

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using next_atom = caf::atom_constant<caf::atom("next")>;

struct options {
  int count = 5000;
  std::string policy = "sharing";
  size_t threads = 1;
  size_t workers = 0;
  bool json = false;
  bool raw = false;
};

void report(const options& o, std::vector<double>& lat, double secs) {
  std::sort(lat.begin(), lat.end());
  auto at = [&](double q) {
    return lat[std::min(lat.size() - 1, static_cast<size_t>(q * lat.size()))];
  };
  std::string policy = o.raw ? "raw-tcp" : o.policy;
  // Rounded as the text shows them: what was measured, not division noise.
  auto tenths = [](double x) { return std::round(x * 10) / 10; };
  if (o.json)
    std::printf("%s\n",
                cafchat::json_line({{"policy", policy},
                                    {"threads", o.threads},
                                    {"workers", o.workers},
                                    {"p50_us", tenths(at(0.5))},
                                    {"p90_us", tenths(at(0.9))},
                                    {"p99_us", tenths(at(0.99))},
                                    {"round_trips_per_s",
                                     std::llround(lat.size() / secs)}})
                  .c_str());
  else if (o.raw)
    std::printf("plain TCP socket, no CAF: round trip p50 %.0f us, p90 %.0f "
                "us, p99 %.0f us, %.0f round trips/s\n",
                at(0.5), at(0.9), at(0.99), lat.size() / secs);
  else
    std::printf("policy %-8s threads %zu workers %zu: round trip p50 %.0f us, "
                "p90 %.0f us, p99 %.0f us, %.0f round trips/s\n",
                o.policy.c_str(), o.threads, o.workers, at(0.5), at(0.9),
                at(0.99), lat.size() / secs);
}

bool full_io(int fd, char* buf, size_t n, bool write) {
  size_t done = 0;
  while (done < n) {
    auto r = write ? ::write(fd, buf + done, n - done)
                   : ::read(fd, buf + done, n - done);
    if (r <= 0)
      return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

int raw_rtt(const options& o) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || ::listen(lfd, 1) != 0
      || ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("caf-rtt: listen");
    return 1;
  }
  int one = 1;
  auto child = ::fork();
  if (child == 0) {
    int c = ::accept(lfd, nullptr, nullptr);
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[64];
    while (full_io(c, buf, sizeof(buf), false) && full_io(c, buf, sizeof(buf), true))
      ;
    std::_Exit(0);
  }
  ::close(lfd);
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("caf-rtt: connect");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return 1;
  }
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  char buf[64] = {};
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(o.count));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.count; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!full_io(s, buf, sizeof(buf), true) || !full_io(s, buf, sizeof(buf), false))
      break;
    lat.push_back(std::chrono::duration<double, std::micro>(
                    std::chrono::steady_clock::now() - t0)
                    .count());
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - start)
                .count();
  ::close(s);
  ::waitpid(child, nullptr, 0);
  if (lat.empty())
    return 1;
  report(o, lat, secs);
  return 0;
}

void configure(caf::actor_system_config& cfg, const options& o) {
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.policy", caf::atom_from_string(o.policy));
  cfg.set("scheduler.max-threads", o.threads);
  cfg.set("middleman.workers", o.workers);
}

[[noreturn]] void serve(const options& o, int port_fd) {
  caf::actor_system_config cfg;
  configure(cfg, o);
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ping_atom, uint64_t x) { return x; }};
  });
  auto port = sys.middleman().publish(echo, 0, "127.0.0.1", true);
  uint16_t p = port ? *port : 0;
  if (::write(port_fd, &p, sizeof(p)) != sizeof(p))
    std::_Exit(1);
  ::close(port_fd);
  pause(); // until the parent kills us
  std::_Exit(0);
}

int measure(const options& o, uint16_t port) {
  caf::actor_system_config cfg;
  configure(cfg, o);
  caf::actor_system sys{cfg};
  auto srv = sys.middleman().remote_actor("127.0.0.1", port);
  if (!srv) {
    std::fprintf(stderr, "caf-rtt: cannot reach the echo server: %s\n",
                 sys.render(srv.error()).c_str());
    return 1;
  }
  auto lat = std::make_shared<std::vector<double>>();
  auto start = std::chrono::steady_clock::now();
  auto n = o.count;
  auto dest = *srv;
  // One request at a time: each reply sends the actor a `next` to itself,
  // which issues the following request.
  sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto done = std::make_shared<int>(0);
    self->send(self, next_atom::value);
    return {
      [=](next_atom) {
        auto t0 = std::chrono::steady_clock::now();
        self->request(dest, std::chrono::seconds(5), ping_atom::value,
                      static_cast<uint64_t>(*done))
          .then(
            [=](uint64_t) {
              lat->push_back(std::chrono::duration<double, std::micro>(
                               std::chrono::steady_clock::now() - t0)
                               .count());
              if (++*done >= n)
                self->quit();
              else
                self->send(self, next_atom::value);
            },
            [=](caf::error&) { self->quit(); });
      },
    };
  });
  sys.await_all_actors_done();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - start)
                .count();
  if (lat->empty())
    return 1;
  report(o, *lat, secs);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "caf-rtt: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--count")
      o.count = std::atoi(next());
    else if (a == "--policy")
      o.policy = next();
    else if (a == "--threads")
      o.threads = static_cast<size_t>(std::atoi(next()));
    else if (a == "--workers")
      o.workers = static_cast<size_t>(std::atoi(next()));
    else if (a == "--json")
      o.json = true;
    else if (a == "--raw")
      o.raw = true;
    else {
      std::fprintf(stderr, "usage: caf-rtt [--count N] [--policy stealing|"
                           "sharing] [--threads N] [--workers N] [--raw] "
                           "[--json]\n");
      return 2;
    }
  }
  if ((o.policy != "stealing" && o.policy != "sharing") || o.count <= 0
      || o.threads == 0) {
    std::fprintf(stderr, "caf-rtt: bad settings\n");
    return 2;
  }
  if (o.raw)
    return raw_rtt(o);
  int fds[2];
  if (::pipe(fds) != 0)
    return 1;
  auto child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    serve(o, fds[1]);
  }
  ::close(fds[1]);
  uint16_t port = 0;
  auto r = ::read(fds[0], &port, sizeof(port));
  ::close(fds[0]);
  int rc = 1;
  if (r == sizeof(port) && port != 0)
    rc = measure(o, port);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return rc;
}
