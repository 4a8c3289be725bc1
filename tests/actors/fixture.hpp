#pragma once

// Deterministic actor tests: CAF's test coordinator runs every actor in this
// thread, one message at a time, in an order the test chooses, and time only
// moves when the test moves it. A scenario with minutes of timeouts runs in
// milliseconds and never flakes.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
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
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
    // Pending timers would keep actors alive: fire them into dead mailboxes.
    while (sched.has_pending_timeout()) {
      sched.trigger_timeouts();
      sched.run();
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

  /// Lets `d` of simulated time pass, running everything that happens.
  void run_for(caf::timespan d, std::mt19937_64* rng = nullptr) {
    run_until([] { return false; }, d, rng);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::vector<caf::actor> owned;
};

} // namespace cafchat::test
