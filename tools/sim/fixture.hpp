#pragma once

// Deterministic actor tests: CAF's test coordinator runs every actor in this
// thread, one message at a time, in an order the test chooses, and time only
// moves when the test moves it. A scenario with minutes of timeouts runs in
// milliseconds and never flakes.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/expected.hpp"
#include "caf/sec.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/send.hpp"

#include "messages/registry.hpp"

namespace cafchat::test {

class det_fixture {
public:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.inline-output", true);
    return cfg;
  }

  det_fixture()
    : sys(init(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }

  ~det_fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
    // Pending timers would keep actors alive: fire them into dead mailboxes.
    // An actor that still ticks after its owner stopped it is a leak.
    for (int i = 0; i < 1000 && sched.has_pending_timeout(); ++i) {
      sched.trigger_timeouts();
      sched.run();
    }
    if (sched.has_pending_timeout()) {
      std::fprintf(stderr, "det_fixture: actors still alive at teardown\n");
      std::abort();
    }
  }

  /// Keeps `a` until teardown, then kills it (peers hold each other's
  /// handles, which would otherwise hang the actor system's shutdown).
  template <class Handle>
  Handle own(Handle a) {
    owned.push_back(caf::actor_cast<caf::actor>(a));
    return a;
  }

  /// Simulated time since the start.
  caf::timespan now() const {
    return sched.clock().now().time_since_epoch();
  }

  /// Runs one job: FIFO without an rng, otherwise a random ready actor.
  bool step(std::mt19937_64* rng) {
    if (sched.jobs.empty())
      return false;
    if (rng != nullptr && sched.jobs.size() > 1) {
      auto i = std::uniform_int_distribution<size_t>(0, sched.jobs.size() - 1)(*rng);
      std::rotate(sched.jobs.begin(), sched.jobs.begin() + i,
                  sched.jobs.begin() + i + 1);
    }
    sched.run_once();
    return true;
  }

  /// Runs jobs until none is ready.
  void drain(std::mt19937_64* rng = nullptr) {
    while (step(rng))
      ;
  }

  /// Runs jobs and fires timers (moving simulated time) until `done` holds
  /// or `limit` of simulated time has passed. Returns whether `done` held.
  bool run_until(const std::function<bool()>& done, caf::timespan limit,
                 std::mt19937_64* rng = nullptr) {
    auto deadline = now() + limit;
    for (;;) {
      drain(rng);
      if (done())
        return true;
      if (!sched.has_pending_timeout() || now() >= deadline)
        return false;
      sched.trigger_timeout();
    }
  }

  /// Like run_until, but checks `done` after every single job, so the test
  /// can act at an exact point of the protocol.
  bool run_until_step(const std::function<bool()>& done, caf::timespan limit) {
    auto deadline = now() + limit;
    for (;;) {
      while (step(nullptr))
        if (done())
          return true;
      if (done())
        return true;
      if (!sched.has_pending_timeout() || now() >= deadline)
        return false;
      sched.trigger_timeout();
    }
  }

  /// Lets `d` of simulated time pass, running everything that happens.
  void run_for(caf::timespan d, std::mt19937_64* rng = nullptr) {
    run_until([] { return false; }, d, rng);
  }

  /// Sends a request from a fresh actor and runs the cluster until the answer
  /// (a T or an error) is in.
  template <class T, class... Ts>
  caf::expected<T> ask(const caf::actor& dest, Ts... xs) {
    auto result = std::make_shared<std::optional<caf::expected<T>>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dest, std::chrono::seconds(30), xs...)
        .then([=](T& x) { *result = std::move(x); },
              [=](caf::error& e) { *result = std::move(e); });
    });
    run_until([&] { return result->has_value(); }, std::chrono::seconds(60));
    if (!result->has_value())
      return caf::make_error(caf::sec::request_timeout);
    return std::move(**result);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::vector<caf::actor> owned;
};

} // namespace cafchat::test
