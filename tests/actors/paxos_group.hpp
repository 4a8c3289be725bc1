#pragma once

// 2f+1 servers' worth of acceptor, proposer and learner actors, wired to each
// other through their peer tables, on in-memory storage that outlives them.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "actors/acceptor/acceptor_actor.hpp"
#include "actors/learner/learner_actor.hpp"
#include "actors/proposer/proposer_actor.hpp"
#include "actors/server/server_actor.hpp"
#include "actors/server/server_params.hpp"
#include "actors/storage/memory_storage.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"
#include "tools/sim/fixture.hpp"

namespace cafchat::test {

class paxos_group {
public:
  paxos_group(det_fixture& fx, size_t n, server_params p) : fx_(fx), p_(p) {
    for (server_id id = 1; id <= n; ++id)
      p_.servers.push_back(id);
    p_.set_check_invariants(true);
    monitor_ = std::make_shared<paxos_monitor>(n);
    // CAFCHAT_TRACE=1 prints every event of the group to stderr.
    if (std::getenv("CAFCHAT_TRACE") != nullptr)
      log_ = event_log::to_sink([](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
      });
    for (auto id : p_.servers) {
      disks_[id] = make_memory_storage();
      fresh_[id] = true;
      info_[id].id = id;
    }
    for (auto id : p_.servers) {
      spawn_acceptor(id);
      spawn_learner(id);
      spawn_proposer(id);
    }
    announce_all();
  }

  /// Re-sends every server's handles to every role.
  void announce_all() {
    for (auto& [id, info] : info_)
      for (auto& [to, other] : info_)
        for (auto& r : {other.acceptor, other.proposer, other.learner})
          if (r)
            caf::anon_send(r, peer_atom::value, info);
  }

  void spawn_acceptor(server_id id) {
    auto c = acceptor_config_for(p_, id, disks_[id].acceptor);
    c.opts.incarnation = ++incarnations_;
    // The group starts as a new cluster: the first storage of each server
    // founds it. A wiped one (wipe()) rejoins.
    c.opts.founder = fresh_[id];
    fresh_[id] = false; // a respawn reopens the same store
    c.decided = disks_[id].learner;
    c.monitor = monitor_;
    c.log = log_;
    info_[id].acceptor = fx_.own(fx_.sys.spawn(acceptor_actor, c));
    ++info_[id].incarnation;
  }

  void spawn_learner(server_id id) {
    auto c = learner_config_for(p_, id, disks_[id].learner);
    c.log = log_;
    info_[id].learner = fx_.own(fx_.sys.spawn(learner_actor, c));
  }

  void spawn_proposer(server_id id) {
    auto c = proposer_config_for(p_, id, 0);
    c.storage = disks_[id].acceptor;
    c.log = log_;
    info_[id].proposer = fx_.own(fx_.sys.spawn(proposer_actor, c));
  }

  void kill(const caf::actor& a) {
    caf::anon_send_exit(a, caf::exit_reason::kill);
  }

  /// Server `id` loses its disk: new, empty storage for its next actors,
  /// which rejoin (the caller kills the old actors first).
  void wipe(server_id id) {
    disks_[id] = make_memory_storage();
    fresh_[id] = false;
  }

  /// The first violation of the global Paxos invariants ("" if none).
  std::string violation() const { return monitor_->violation(); }

  /// A client command from client `client`.
  void propose(server_id at, uint64_t client, uint64_t seq,
               const std::string& text) {
    caf::anon_send(info_[at].proposer,
                   submit{{command{client, seq, "client" + std::to_string(client),
                                  text}}});
  }

  /// Chosen values as learner `id` applied them, slots from 1.
  std::vector<decide> learned(server_id id) {
    return disks_[id].learner->decided(1, 1000000);
  }

  /// The chat history at learner `id`.
  std::vector<chat_entry> history(server_id id) {
    return disks_[id].learner->history(1, 1000000);
  }

  server_info& info(server_id id) { return info_[id]; }
  server_storage& disk(server_id id) { return disks_[id]; }
  const std::vector<server_id>& ids() const { return p_.servers; }

private:
  det_fixture& fx_;
  server_params p_;
  std::shared_ptr<paxos_monitor> monitor_;
  event_log_ptr log_;
  uint64_t incarnations_ = 0;
  std::map<server_id, bool> fresh_;
  std::map<server_id, server_storage> disks_;
  std::map<server_id, server_info> info_;
};

/// Short timeouts: 10 ms ticks, elections after 100-200 ms.
inline server_params test_params(bool prevote = true) {
  server_params p;
  p.tick_ms = 10;
  p.proposer.heartbeat_ticks = 2;
  p.proposer.election_ticks = 10;
  p.set_retry_ticks(5);
  p.learner.catchup_ticks = 5;
  p.proposer.window = 8;
  p.proposer.batch_max = 4;
  p.proposer.prevote = prevote;
  p.proposer.seed = 7;
  return p;
}

inline std::string text_of(const decide& d) {
  if (d.val.is_noop() || d.val.commands.empty())
    return "<noop>";
  return d.val.commands.front().text;
}

} // namespace cafchat::test
