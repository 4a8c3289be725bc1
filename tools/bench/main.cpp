// caf-bench: throughput and latency of cafchat, beside an unreplicated
// baseline.
//
//   caf-bench --config FILE --clients N --window W --duration S --payload B
//             [--warmup S] [--no-baseline] [--json]
//
// With a single-process config it runs that cluster in this process (with
// the config's storage); with a cluster config ([nodes]) it drives the
// running nodes over the network. N clients, each a real client actor
// subscribed to the chat, keep W messages of B bytes outstanding. Reported:
// commits/s (messages acknowledged to their sender, i.e. seen back in the
// history), deliveries/s (history entries received by all clients), latency
// from submit to own delivery (p50/p90/p99/p99.9) and peak resident memory;
// then the same for the baseline (one sequencer actor, no replication).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/client/client_actor.hpp"
#include "actors/common/json.hpp"
#include "actors/load_balancer/load_balancer.hpp"
#include "messages/atoms.hpp"
#include "messages/registry.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"
#include "tools/bench/baseline.hpp"

using namespace cafchat;
using clock_type = std::chrono::steady_clock;

namespace {

const char* usage =
  "usage: caf-bench --config FILE [--clients N] [--window W] [--duration S]\n"
  "                 [--payload B] [--warmup S] [--no-baseline] [--json]\n";

struct bench_options {
  std::string config;
  std::string cert, key, ca; // --cert, --key, --ca: a cluster with [tls]
  uint32_t clients = 10;
  uint32_t window = 1;
  double duration = 10;
  double warmup = 2;
  uint32_t payload = 64;
  bool json = false;
  bool baseline = true;
};

/// Shared by every bench client: the phases of a run.
struct run_control {
  std::atomic<bool> running{true};
  std::atomic<bool> measuring{false};
  clock_type::time_point measure_start;
};

/// A client's load generator: keeps `window` messages outstanding, times
/// each from submit to its own delivery. Runs on the client actor's thread.
class bench_client : public client_listener {
public:
  bench_client(std::shared_ptr<run_control> ctl, uint32_t window,
               std::string payload)
    : ctl_(std::move(ctl)), window_(window), payload_(std::move(payload)),
      sent_at_(window + 1) {}

  void start(caf::actor self) {
    self_ = std::move(self);
    std::lock_guard<std::mutex> guard{mtx_};
    top_up();
  }

  void on_entries(const std::vector<chat_entry>& entries) override {
    if (ctl_->measuring)
      deliveries += entries.size();
  }

  void on_notice(const client_notice&) override {}

  void on_acknowledged(uint64_t seq) override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = clock_type::now();
    bool measuring = ctl_->measuring;
    for (auto s = acked_ + 1; s <= seq && s <= sent_; ++s) {
      auto at = sent_at_[s % sent_at_.size()];
      if (measuring && at >= ctl_->measure_start) {
        latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - at)
            .count()));
        ++commits;
      }
    }
    acked_ = std::max(acked_, seq);
    top_up();
  }

  std::vector<uint32_t> take_latencies() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::move(latencies_us);
  }

  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> deliveries{0};

private:
  void top_up() {
    if (!self_)
      return;
    while (ctl_->running && sent_ - acked_ < window_) {
      ++sent_;
      sent_at_[sent_ % sent_at_.size()] = clock_type::now();
      caf::anon_send(self_, say_atom::value, payload_);
    }
  }

  std::shared_ptr<run_control> ctl_;
  uint32_t window_;
  std::string payload_;
  caf::actor self_;
  std::mutex mtx_;
  uint64_t sent_ = 0;
  uint64_t acked_ = 0;
  std::vector<clock_type::time_point> sent_at_;
  std::vector<uint32_t> latencies_us;
};

struct run_result {
  double commits_per_s = 0;
  double deliveries_per_s = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0; // ms
};

double peak_rss_mb() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return 0;
}

double percentile(std::vector<uint32_t>& xs, double p) {
  if (xs.empty())
    return 0;
  auto k = static_cast<size_t>(std::ceil(p * static_cast<double>(xs.size()))) - 1;
  k = std::min(k, xs.size() - 1);
  std::nth_element(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(k),
                   xs.end());
  return xs[k] / 1000.0;
}

/// Runs N clients against `lb` for warmup + duration seconds.
run_result drive(caf::actor_system& sys, const caf::actor& lb,
                 const bench_options& o, const caf::io::middleman_actor& mm,
                 const char* label) {
  auto ctl = std::make_shared<run_control>();
  std::string payload(o.payload, 'x');
  std::vector<std::shared_ptr<bench_client>> clients;
  std::vector<caf::actor> actors;
  std::mt19937_64 ids{std::random_device{}()};
  for (uint32_t i = 0; i < o.clients; ++i) {
    auto bc = std::make_shared<bench_client>(ctl, o.window, payload);
    client_config cc;
    cc.key = std::to_string(ids()) + "-bench-client-key";
    cc.name = "bench" + std::to_string(i + 1);
    cc.load_balancer = lb;
    cc.retry_ms = 5000;
    cc.max_text_bytes = std::max<uint32_t>(o.payload, 1);
    cc.listener = bc;
    cc.middleman = mm;
    cc.pending_max = o.window + 16;
    auto a = sys.spawn(client_actor, cc);
    bc->start(a);
    clients.push_back(bc);
    actors.push_back(a);
  }
  auto progress = [&](double elapsed, double total, uint64_t commits,
                      double since) {
    if (o.json)
      return;
    int width = 30;
    int filled = static_cast<int>(width * std::min(1.0, elapsed / total));
    std::fprintf(stderr, "\r%-10s [%.*s%*s] %5.1f/%.0f s %10.0f commits/s",
                 label, filled, "==============================",
                 width - filled, "", elapsed, total,
                 since > 0 ? static_cast<double>(commits) / since : 0.0);
  };
  auto start = clock_type::now();
  auto total = o.warmup + o.duration;
  while (std::chrono::duration<double>(clock_type::now() - start).count()
         < o.warmup) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    progress(std::chrono::duration<double>(clock_type::now() - start).count(),
             total, 0, 0);
  }
  ctl->measure_start = clock_type::now();
  ctl->measuring = true;
  auto mstart = ctl->measure_start;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto now = clock_type::now();
    auto since = std::chrono::duration<double>(now - mstart).count();
    uint64_t commits = 0;
    for (auto& c : clients)
      commits += c->commits;
    progress(o.warmup + since, total, commits, since);
    if (since >= o.duration)
      break;
  }
  ctl->measuring = false;
  auto secs = std::chrono::duration<double>(clock_type::now() - mstart).count();
  ctl->running = false;
  if (!o.json)
    std::fputc('\n', stderr);
  run_result r;
  uint64_t commits = 0, deliveries = 0;
  std::vector<uint32_t> lat;
  for (auto& c : clients) {
    commits += c->commits;
    deliveries += c->deliveries;
    auto l = c->take_latencies();
    lat.insert(lat.end(), l.begin(), l.end());
  }
  r.commits_per_s = static_cast<double>(commits) / secs;
  r.deliveries_per_s = static_cast<double>(deliveries) / secs;
  r.p50 = percentile(lat, 0.50);
  r.p90 = percentile(lat, 0.90);
  r.p99 = percentile(lat, 0.99);
  r.p999 = percentile(lat, 0.999);
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return r;
}

/// Waits until the load balancer says every server registered and one of
/// them leads (asking also tells the balancer who leads).
bool await_ready(caf::actor_system& sys, const caf::actor& lb) {
  caf::scoped_actor self{sys};
  for (int i = 0; i < 300; ++i) {
    bool ready = false;
    self->request(lb, std::chrono::seconds(2), status_atom::value)
      .receive(
        [&](const cluster_view& v) {
          ready = v.ready
                  && std::any_of(v.servers.begin(), v.servers.end(),
                                 [](const server_status& s) {
                                   return s.role == server_role::leader
                                          || s.role
                                               == server_role::sequencer;
                                 });
        },
        [](caf::error&) {});
    if (ready)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool parse_args(int argc, char** argv, bench_options& o) {
  // Numeric options: the least value each takes, and where it goes.
  auto u32 = [](uint32_t& x) { return [&x](double d) { x = static_cast<uint32_t>(d); }; };
  auto dbl = [](double& x) { return [&x](double d) { x = d; }; };
  const std::map<std::string, std::pair<double, std::function<void(double)>>>
    numbers{{"--clients", {1, u32(o.clients)}},
            {"--window", {1, u32(o.window)}},
            {"--payload", {1, u32(o.payload)}},
            {"--duration", {0.1, dbl(o.duration)}},
            {"--warmup", {0, dbl(o.warmup)}}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc
               && (a == "--config" || a == "--cert" || a == "--key"
                   || a == "--ca" || numbers.count(a) > 0)) {
      v = argv[++i];
    }
    if (a == "--json") {
      o.json = true;
    } else if (a == "--no-baseline") {
      o.baseline = false;
    } else if (a == "--config" && !v.empty()) {
      o.config = v;
    } else if ((a == "--cert" || a == "--key" || a == "--ca") && !v.empty()) {
      (a == "--cert" ? o.cert : a == "--key" ? o.key : o.ca) = v;
    } else if (auto n = numbers.find(a); n != numbers.end()) {
      char* end = nullptr;
      auto d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(d >= n->second.first)) {
        std::fprintf(stderr, "caf-bench: bad value for %s: '%s'\n", a.c_str(),
                     v.c_str());
        return false;
      }
      n->second.second(d);
    } else if (a == "--config") {
      std::fprintf(stderr, "caf-bench: bad value for --config: ''\n");
      return false;
    } else {
      std::fprintf(stderr, "caf-bench: unknown argument %s\n", argv[i]);
      return false;
    }
  }
  if (o.config.empty()) {
    std::fprintf(stderr, "caf-bench: --config FILE is required\n");
    return false;
  }
  return true;
}

/// `x` rounded to `digits` decimals: the JSON shows what was measured, not
/// the noise of a division.
double rounded(double x, int digits) {
  auto scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

/// The --json result line: one object, the same keys in the same order as
/// tools/bench-matrix and tools/bench-cluster read.
ordered_json json_result(const run_result& rep, const run_result& base,
                         double rss, const bench_options& o,
                         const node_config& cfg) {
  auto latency = [](const run_result& r) {
    return ordered_json{{"p50", rounded(r.p50, 4)},
                        {"p90", rounded(r.p90, 4)},
                        {"p99", rounded(r.p99, 4)},
                        {"p999", rounded(r.p999, 4)}};
  };
  return {{"commits_per_s", rounded(rep.commits_per_s, 1)},
          {"deliveries_per_s", rounded(rep.deliveries_per_s, 1)},
          {"latency_ms", latency(rep)},
          {"baseline_commits_per_s", rounded(base.commits_per_s, 1)},
          {"baseline_deliveries_per_s", rounded(base.deliveries_per_s, 1)},
          {"baseline_latency_ms", latency(base)},
          {"peak_rss_mb", rounded(rss, 1)},
          {"clients", o.clients},
          {"window", o.window},
          {"payload", o.payload},
          {"duration_s", rounded(o.duration, 1)},
          {"storage", cfg.storage},
          {"mode", cfg.distributed() ? "processes" : "one-process"},
          {"servers", cfg.servers.size()}};
}

void print_text(const char* label, const run_result& r) {
  fmt::print("{:<11} {:>10.0f} commits/s {:>12.0f} deliveries/s   latency ms: "
             "p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}\n",
             label, r.commits_per_s, r.deliveries_per_s, r.p50, r.p90, r.p99,
             r.p999);
}

} // namespace

int main(int argc, char** argv) {
  bench_options o;
  if (!parse_args(argc, argv, o)) {
    std::fputs(usage, stderr);
    return 2;
  }
  node_config cfg;
  try {
    cfg = load_config(o.config);
  } catch (config_error& e) {
    std::cerr << "caf-bench: " << e.what() << std::endl;
    return 2;
  }
  if (o.payload > cfg.params.max_text_bytes) {
    std::cerr << "caf-bench: --payload " << o.payload << " is over max_text_bytes "
              << cfg.params.max_text_bytes << std::endl;
    return 2;
  }
  // No per-message event log lines in a benchmark.
  cfg.events.clear();
  cfg.lb_events.clear();
  if (cfg.distributed())
    if (auto why = resolve_tls(cfg, "client", o.cert, o.key, o.ca);
        !why.empty()) {
      std::cerr << "caf-bench: " << why << std::endl;
      return 2;
    }
  caf::actor_system_config sys_cfg;
  try {
    configure_runtime(sys_cfg, cfg);
  } catch (std::exception& e) {
    std::cerr << "caf-bench: " << e.what() << std::endl;
    return 1;
  }
  caf::actor_system sys{sys_cfg};
  caf::io::middleman_actor mm;
  cluster local;
  caf::actor lb;
  if (cfg.distributed()) {
    mm = network_handle(sys);
    auto& ep = cfg.nodes.at("lb");
    auto x = connect_to(sys, ep.host, ep.port, principal::load_balancer());
    if (!x) {
      std::cerr << "caf-bench: no load balancer at " << ep.host << ":" << ep.port
                << ": " << sys.render(x.error())
                << " (start the cluster first, e.g. tools/launch)" << std::endl;
      return 1;
    }
    lb = *x;
  } else {
    try {
      local = start_local_cluster(sys, cfg);
    } catch (std::exception& e) {
      std::cerr << "caf-bench: " << e.what() << std::endl;
      return 2;
    }
    lb = local.load_balancer;
  }
  if (!await_ready(sys, lb)) {
    std::cerr << "caf-bench: the cluster did not become ready" << std::endl;
    return 1;
  }
  if (!o.json)
    std::fprintf(stderr,
                 "caf-bench: %u clients x %u outstanding, %u-byte messages, "
                 "%.0f s (+%.0f s warm-up), %s, storage %s\n",
                 o.clients, o.window, o.payload, o.duration, o.warmup,
                 cfg.distributed() ? "nodes over the network" : "one process",
                 cfg.storage.c_str());
  auto rep = drive(sys, lb, o, mm, "replicated");
  local.stop();
  run_result base;
  if (o.baseline) {
    load_balancer_config lc;
    lc.servers = {1};
    lc.max_text_bytes = cfg.params.max_text_bytes;
    auto blb = sys.spawn(load_balancer, lc);
    auto front = bench::spawn_baseline(sys, blb, cfg.params.max_text_bytes);
    if (await_ready(sys, blb))
      base = drive(sys, blb, o, caf::io::middleman_actor{}, "baseline");
    caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(blb, caf::exit_reason::user_shutdown);
  }
  auto rss = peak_rss_mb();
  if (o.json) {
    std::printf("%s\n", json_line(json_result(rep, base, rss, o, cfg)).c_str());
  } else {
    print_text("replicated", rep);
    if (o.baseline) {
      print_text("baseline", base);
      std::printf("replicated / baseline = %.2f\n",
                  base.commits_per_s > 0 ? rep.commits_per_s / base.commits_per_s
                                         : 0.0);
    }
    std::printf("peak resident memory: %.1f MB%s\n", rss,
                cfg.distributed() ? " (this process; servers run elsewhere)"
                                  : "");
  }
  return 0;
}
