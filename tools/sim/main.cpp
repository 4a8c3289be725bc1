// caf-simulate: runs the seeded randomised simulation (tools/sim/simulation.hpp)
// for many seeds, in parallel, and stops at the first violation, naming its
// seed. `tools/simulate` is the wrapper people use.
//
//   caf-simulate --seeds N [--from S] [--jobs J]   many runs, with progress
//   caf-simulate --seed S [--trace]                one run (and its trace)
//   caf-simulate ... --break RULE                  TEST ONLY: break a rule
//                                                   (--break list names them)
//   caf-simulate ... --break-accept-rule           the same as --break accept
//
// Exit codes: 0 every seed passed; 1 a violation (its seed is printed); 2 bad
// usage.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "tools/sim/simulation.hpp"

using namespace cafchat::test;

namespace {

const char* usage =
  "usage: caf-simulate --seeds N [--from S] [--jobs J] [--break RULE]\n"
  "       caf-simulate --seed S [--trace] [--break RULE]\n"
  "       caf-simulate --break list\n";

bool parse_u64(const char* s, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s, &end, 10);
  return end != s && *end == '\0' && errno == 0 && s[0] != '-';
}

void print_result(uint64_t seed, const sim_run_result& r) {
  std::printf("seed %llu: %s (f=%u, %u clients, %llu messages, %llu slots, "
              "%llu faults, %llu dropped, %llu duplicated, %llu leader "
              "elections, %llu disks lost, %llu power cuts, %llu proposer "
              "bounces, %llu withdrawn%s%s, %.1f s simulated)\n",
              static_cast<unsigned long long>(seed), r.ok ? "ok" : "VIOLATION",
              r.f, r.clients, static_cast<unsigned long long>(r.messages),
              static_cast<unsigned long long>(r.slots),
              static_cast<unsigned long long>(r.faults),
              static_cast<unsigned long long>(r.dropped),
              static_cast<unsigned long long>(r.duplicated),
              static_cast<unsigned long long>(r.leader_changes),
              static_cast<unsigned long long>(r.wipes),
              static_cast<unsigned long long>(r.power_cuts),
              static_cast<unsigned long long>(r.bounces),
              static_cast<unsigned long long>(r.withdrawn),
              r.fatal ? ", more disks lost than tolerated" : "",
              r.slow ? ", one-way delays up to a minute" : "", r.sim_seconds);
  if (!r.ok)
    std::printf("  %s\n", r.violation.c_str());
}

int run_one(uint64_t seed, bool trace, const std::string& broken) {
  sim_run_options o;
  o.seed = seed;
  o.broken_rule = broken;
  if (trace)
    o.trace = [](const std::string& line) { std::puts(line.c_str()); };
  auto r = run_simulation(o);
  print_result(seed, r);
  if (!r.ok)
    std::printf("replay: tools/simulate --seed %llu --trace%s%s\n",
                static_cast<unsigned long long>(seed),
                broken.empty() ? "" : " --break ", broken.c_str());
  return r.ok ? 0 : 1;
}

int run_many(uint64_t from, uint64_t count, unsigned jobs,
             const std::string& broken) {
  using clock = std::chrono::steady_clock;
  auto start = clock::now();
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::mutex mtx;
  uint64_t failed_seed = 0;
  sim_run_result failure;
  uint64_t messages = 0, slots = 0, faults = 0, dropped = 0, f2 = 0;
  uint64_t wipes = 0, cuts = 0, bounces = 0, withdrawn = 0, fatal = 0, slow = 0;
  auto worker = [&] {
    for (;;) {
      auto i = next++;
      if (i >= count || failed)
        return;
      auto seed = from + i;
      sim_run_options o;
      o.seed = seed;
      o.broken_rule = broken;
      auto r = run_simulation(o);
      std::lock_guard<std::mutex> guard{mtx};
      messages += r.messages;
      slots += r.slots;
      faults += r.faults;
      dropped += r.dropped;
      f2 += r.f == 2;
      wipes += r.wipes;
      cuts += r.power_cuts;
      bounces += r.bounces;
      withdrawn += r.withdrawn;
      fatal += r.fatal ? 1 : 0;
      slow += r.slow ? 1 : 0;
      if (!r.ok && (!failed || seed < failed_seed)) {
        failed = true;
        failed_seed = seed;
        failure = r;
      }
      ++done;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j)
    threads.emplace_back(worker);
  // A progress bar on a terminal; otherwise a line at every tenth.
  bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last_draw = clock::now();
  uint64_t last_tenth = 0;
  auto draw = [&](uint64_t n) {
    auto secs = std::chrono::duration<double>(clock::now() - start).count();
    int width = 30;
    int filled = static_cast<int>(width * n / count);
    std::fprintf(stderr, "%s[%.*s%*s] %llu/%llu seeds, %.0f s%s",
                 tty ? "\r" : "", filled, "==============================",
                 width - filled, "", static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(count), secs, tty ? "" : "\n");
  };
  while (done < count && !failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto n = done.load();
    if (tty && clock::now() - last_draw > std::chrono::milliseconds(200)) {
      draw(n);
      last_draw = clock::now();
    } else if (!tty && n * 10 / count > last_tenth) {
      last_tenth = n * 10 / count;
      draw(n);
    }
  }
  for (auto& t : threads)
    t.join();
  if (tty) {
    draw(done.load());
    std::fputc('\n', stderr);
  }
  auto secs = std::chrono::duration<double>(clock::now() - start).count();
  if (failed) {
    print_result(failed_seed, failure);
    std::printf("FAILED at seed %llu; replay: tools/simulate --seed %llu "
                "--trace%s\n",
                static_cast<unsigned long long>(failed_seed),
                static_cast<unsigned long long>(failed_seed),
                broken.empty() ? "" : (" --break " + broken).c_str());
    return 1;
  }
  std::printf("%llu seeds passed (%llu..%llu; f=1: %llu, f=2: %llu): %llu "
              "messages, %llu slots, %llu fault events (%llu disks lost, "
              "%llu writes lost to power cuts, %llu proposers restarted amid "
              "elections, %llu runs with more disks lost than tolerated, "
              "%llu runs on a network with one-way delays up to a minute), "
              "%llu messages withdrawn, %llu peer messages dropped, in %.1f s "
              "with %u jobs\n",
              static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(from),
              static_cast<unsigned long long>(from + count - 1),
              static_cast<unsigned long long>(count - f2),
              static_cast<unsigned long long>(f2),
              static_cast<unsigned long long>(messages),
              static_cast<unsigned long long>(slots),
              static_cast<unsigned long long>(faults),
              static_cast<unsigned long long>(wipes),
              static_cast<unsigned long long>(cuts),
              static_cast<unsigned long long>(bounces),
              static_cast<unsigned long long>(fatal),
              static_cast<unsigned long long>(slow),
              static_cast<unsigned long long>(withdrawn),
              static_cast<unsigned long long>(dropped), secs, jobs);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 0, from = 1, seed = 0, jobs = 0;
  bool have_seed = false, trace = false;
  std::string broken;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](uint64_t& out) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], out)) {
        std::fprintf(stderr, "caf-simulate: %s needs a number\n%s", a.c_str(),
                     usage);
        std::exit(2);
      }
      ++i;
    };
    if (a == "--seeds")
      value(seeds);
    else if (a == "--from")
      value(from);
    else if (a == "--jobs")
      value(jobs);
    else if (a == "--seed") {
      value(seed);
      have_seed = true;
    } else if (a == "--trace")
      trace = true;
    else if (a == "--break-accept-rule")
      broken = "accept";
    else if (a == "--break") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "caf-simulate: --break needs a rule (--break list)\n");
        return 2;
      }
      broken = argv[++i];
      if (broken == "list") {
        for (auto& [name, what] : breakable_rules())
          std::printf("%-9s %s\n", name.c_str(), what.c_str());
        return 0;
      }
      bool known = false;
      for (auto& [name, what] : breakable_rules())
        known = known || name == broken;
      if (!known) {
        std::fprintf(stderr, "caf-simulate: no rule '%s' (--break list)\n",
                     broken.c_str());
        return 2;
      }
    }
    else if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "caf-simulate: unknown argument %s\n%s", a.c_str(),
                   usage);
      return 2;
    }
  }
  if (have_seed == (seeds > 0)) {
    std::fputs(usage, stderr);
    return 2;
  }
  if (trace && !have_seed) {
    std::fprintf(stderr, "caf-simulate: --trace goes with --seed\n");
    return 2;
  }
  if (have_seed)
    return run_one(seed, trace, broken);
  if (jobs == 0)
    jobs = std::max(1u, std::thread::hardware_concurrency());
  return run_many(from, seeds, static_cast<unsigned>(jobs), broken);
}
