// The in-process cluster on CAF's real, multi-threaded scheduler: what the
// deterministic tests cannot show. There, every handler runs to completion
// before the next starts, so two sends of one handler always land before
// anything they cause; here another worker runs the receiver of the first
// send while the second is still on its way. (This is how a bare decide once
// overtook the vote it names, and the log stalled for good.)
//
// Ten clients, each with one message outstanding, as caf-bench drives them.
// Checked as a user would: every message acknowledged (progress), every
// client sees one and the same history (agreement), each message exactly
// once (no duplicates) and each client's messages in the order it said them.
// The wait for progress is bounded, never a measure of speed.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/client/client_actor.hpp"
#include "messages/atoms.hpp"
#include "node/cluster.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"

using namespace cafchat;

namespace {

constexpr uint32_t clients = 10;

/// Counts what all clients have seen; wakes the test when everyone is done.
struct progress {
  std::mutex mtx;
  std::condition_variable cv;
  uint32_t done = 0;
};

class chatty : public client_listener {
public:
  chatty(std::shared_ptr<progress> p, std::string name, uint64_t per_client)
    : progress_(std::move(p)), name_(std::move(name)),
      per_client_(per_client) {}

  void start(caf::actor self) {
    std::lock_guard<std::mutex> guard{mtx_};
    self_ = std::move(self);
    say_next();
  }

  void on_entries(const std::vector<chat_entry>& entries) override {
    std::lock_guard<std::mutex> guard{mtx_};
    seen_.insert(seen_.end(), entries.begin(), entries.end());
  }

  void on_notice(const client_notice&) override {}

  void on_acknowledged(uint64_t seq) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (seq < said_)
      return;
    if (said_ == per_client_) {
      std::lock_guard<std::mutex> g{progress_->mtx};
      ++progress_->done;
      progress_->cv.notify_all();
      return;
    }
    say_next();
  }

  std::vector<chat_entry> seen() {
    std::lock_guard<std::mutex> guard{mtx_};
    return seen_;
  }

  uint64_t said() {
    std::lock_guard<std::mutex> guard{mtx_};
    return said_;
  }

private:
  void say_next() {
    ++said_;
    caf::anon_send(self_, say_atom::value,
                   name_ + " " + std::to_string(said_));
  }

  std::shared_ptr<progress> progress_;
  std::string name_;
  uint64_t per_client_;
  std::mutex mtx_;
  caf::actor self_;
  uint64_t said_ = 0;
  std::vector<chat_entry> seen_;
};

/// Waits (bounded) until every server can address every other one. Until
/// then a leader's decide to a server it does not know yet is lost like a
/// message in transit, and only catch-up, off here, would repair it: that
/// once stalled a late-wired server's learner for good on a loaded machine.
bool wait_until_wired(caf::actor_system& sys, const cluster& local) {
  caf::scoped_actor self{sys};
  auto others = static_cast<uint32_t>(local.hosts.size() - 1);
  for (int attempt = 0; attempt < 500; ++attempt) {
    bool wired = true;
    for (auto& [id, host] : local.hosts)
      self->request(host, std::chrono::seconds(1), status_atom::value)
        .receive(
          [&](const server_status& s) {
            wired = wired && s.alive && s.peers == others;
          },
          [&](caf::error&) { wired = false; });
    if (wired)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void run_chat(const std::string& config_file, uint64_t per_client,
              const std::string& data_dir = {}) {
  auto cfg = load_config(std::string{CAFCHAT_SOURCE_DIR} + "/" + config_file);
  if (!data_dir.empty())
    cfg.data_dir = data_dir + "/server-{id}";
  cfg.events.clear();
  cfg.lb_events.clear();
  cfg.threads = 2; // at least two workers: handlers truly run in parallel
  // Nothing is lost here, so nothing needs the repair paths: a learner's
  // catch-up and a client's resend would only hide a stall (and did hide the
  // one above, as seconds-long pauses). Turn them off in effect.
  cfg.params.learner.catchup_ticks = 100000000;
  cfg.client_retry_ms = 600000;
  caf::actor_system_config sys_cfg;
  configure_runtime(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  auto local = start_local_cluster(sys, cfg);
  if (!wait_until_wired(sys, local)) {
    local.stop();
    FAIL("the servers never learned each other's addresses");
  }
  auto prog = std::make_shared<progress>();
  std::vector<std::shared_ptr<chatty>> listeners;
  std::vector<caf::actor> actors;
  for (uint32_t i = 0; i < clients; ++i) {
    auto name = "c" + std::to_string(i + 1);
    auto l = std::make_shared<chatty>(prog, name, per_client);
    client_config cc;
    cc.key = "threaded-client-key-" + std::to_string(1000 + i);
    cc.name = name;
    cc.load_balancer = local.load_balancer;
    cc.retry_ms = cfg.client_retry_ms;
    cc.listener = l;
    auto a = sys.spawn(client_actor, cc);
    l->start(a);
    listeners.push_back(l);
    actors.push_back(a);
  }
  bool all_done;
  {
    std::unique_lock<std::mutex> guard{prog->mtx};
    all_done = prog->cv.wait_for(guard, std::chrono::seconds(60),
                                 [&] { return prog->done == clients; });
  }
  // Everyone has everything once the last acknowledgement is in; give the
  // other clients' deliveries a bounded moment to arrive.
  size_t want = clients * per_client;
  for (int i = 0; i < 100; ++i) {
    bool full = true;
    for (auto& l : listeners)
      full = full && l->seen().size() >= want;
    if (full)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  local.stop();
  if (!all_done) {
    for (size_t i = 0; i < listeners.size(); ++i)
      UNSCOPED_INFO("client " << i + 1 << " said " << listeners[i]->said()
                              << ", saw " << listeners[i]->seen().size());
  }
  REQUIRE(all_done);
  auto reference = listeners.front()->seen();
  REQUIRE(reference.size() == want);
  std::map<uint64_t, uint64_t> last_seq; // per client
  std::set<std::pair<uint64_t, uint64_t>> once;
  for (size_t k = 0; k < reference.size(); ++k) {
    auto& e = reference[k];
    INFO("entry " << k);
    CHECK(e.index == k + 1);
    CHECK(once.emplace(e.client, e.seq).second);
    CHECK(e.seq == last_seq[e.client] + 1);
    last_seq[e.client] = e.seq;
    CHECK(e.text == e.from + " " + std::to_string(e.seq));
  }
  for (auto& l : listeners) {
    auto seen = l->seen();
    REQUIRE(seen.size() == reference.size());
    for (size_t k = 0; k < seen.size(); ++k) {
      if (seen[k].client != reference[k].client
          || seen[k].seq != reference[k].seq) {
        FAIL("clients disagree at index " << k + 1);
      }
    }
  }
}

} // namespace

TEST_CASE("threaded cluster: ten clients, one message outstanding each, agree "
          "on every message (memory storage, no simulator)") {
  run_chat("configs/bench-memory.ini", 10000);
}

TEST_CASE("threaded cluster: the same through the network-fault simulator's "
          "delays (configs/single-host.ini)") {
  run_chat("configs/single-host.ini", 200);
}

TEST_CASE("threaded cluster: the same on LMDB with group commit "
          "(configs/bench-lmdb.ini)") {
  char tmpl[] = "/tmp/cafchat-threaded-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  struct cleanup {
    std::string dir;
    ~cleanup() { std::filesystem::remove_all(dir); }
  } guard{tmpl};
  run_chat("configs/bench-lmdb.ini", 500, guard.dir);
}
