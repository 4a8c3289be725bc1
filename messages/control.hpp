#pragma once

// Control messages: server registration with the load balancer, peer
// discovery between server hosts, client placement, status, operator
// commands (/kill, /restart, /skip-slot), and the network-fault simulator's
// traffic and controls (/faults). All registered in messages/registry.cpp.

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/actor.hpp"
#include "caf/message.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/sec.hpp"

#include "messages/client.hpp"
#include "messages/paxos.hpp"

namespace cafchat {

// -- client sessions ----------------------------------------------------------

/// Client -> server front: open a session for the client holding `key`
/// (actors/common/client_key.hpp: the server derives the client id from it,
/// never takes one on trust), streaming history from index
/// `resume_after + 1` on to `client_actor`.
struct hello {
  std::string key;
  std::string name;
  uint64_t resume_after = 0;
  caf::actor client_actor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hello& x) {
  return f(x.key, x.name, x.resume_after, x.client_actor);
}

/// Server front -> client: the session that serves `hello`, the client id
/// the server derived from the key, and how many bytes of history the
/// session sends ahead of the client's `received` before it pauses (history)
/// or disconnects the client (live entries).
struct welcome {
  server_id server = 0;
  caf::actor session;
  uint32_t max_text_bytes = 0;
  uint64_t client = 0;
  uint64_t send_queue_max_bytes = 0;
  uint32_t max_commands = 0; ///< Commands per submit, at most.
  uint32_t rate_per_s = 0;   ///< New commands a second (0: no limit),
  uint32_t rate_burst = 0;   ///< saved up to this many.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, welcome& x) {
  return f(x.server, x.session, x.max_text_bytes, x.client,
           x.send_queue_max_bytes, x.max_commands, x.rate_per_s,
           x.rate_burst);
}

// -- servers and the load balancer ---------------------------------------------

/// The actors of one running server, announced to its peers and to the load
/// balancer whenever the server (re)starts. A restarted server has new
/// handles: peers replace the old ones.
struct server_info {
  server_id id = 0;
  uint64_t incarnation = 0; ///< Grows on every restart of the server's actors.
  caf::actor acceptor;
  caf::actor proposer;
  caf::actor learner;
  caf::actor front; ///< Opens client sessions (`hello`).
  std::string host; ///< Where clients connect in a multi-process cluster.
  uint16_t port = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_info& x) {
  return f(x.id, x.incarnation, x.acceptor, x.proposer, x.learner, x.front,
           x.host, x.port);
}

/// Server host -> load balancer: a server is up and can take clients.
/// Refused with an error for an id the configuration does not list.
struct register_server {
  server_info info;
  caf::actor host; ///< The server's host (survives /kill; does /restart).
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, register_server& x) {
  return f(x.info, x.host);
}

/// Client -> load balancer: which server should I use? The balancer derives
/// the client id from `key` and refuses a name another live client holds
/// ("name in use"). `failed` names the server the client just lost (0 if
/// none), so it is not offered again before the balancer itself sees it down.
struct assign_request {
  std::string key;
  std::string name;
  caf::actor client_actor;
  server_id failed = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assign_request& x) {
  return f(x.key, x.name, x.client_actor, x.failed);
}

/// Load balancer -> client: use this server (the live one with the fewest
/// clients).
struct assignment {
  server_info server;
  uint32_t max_text_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assignment& x) {
  return f(x.server, x.max_text_bytes);
}

// -- closed sets, as text only at the edges -----------------------------------
//
// Roles, acceptor states and operator actions are enums inside the code; each
// has a `to_string` giving the text that the JSON lines, the status table and
// the web console show (an interface: keep it).

/// What a server is, for `/status`: its proposer's role while it runs, else
/// why nobody can tell.
enum class server_role : uint8_t {
  follower = 0,     ///< The proposer's role (actors/proposer/proposer_core.hpp).
  precandidate = 1,
  candidate = 2,
  leader = 3,
  down = 4,         ///< Crashed (/kill, /wipe): its host answers for it.
  unregistered = 5, ///< Configured, but it never registered with the balancer.
  unreachable = 6,  ///< Registered, but its host did not answer.
  sequencer = 7,    ///< caf-bench's baseline: one server, no replication.
};

inline const char* to_string(server_role x) {
  switch (x) {
    case server_role::follower:
      return "follower";
    case server_role::precandidate:
      return "precandidate";
    case server_role::candidate:
      return "candidate";
    case server_role::leader:
      return "leader";
    case server_role::down:
      return "down";
    case server_role::unregistered:
      return "unregistered";
    case server_role::unreachable:
      return "unreachable";
    case server_role::sequencer:
      return "sequencer";
  }
  return "?";
}

/// Whether a server's acceptor votes, for `/status`.
enum class acceptor_status : uint8_t {
  unknown = 0,   ///< The server is down; shown as "".
  voting = 1,    ///< It promises and accepts.
  rejoining = 2, ///< Its storage was lost; it does not vote until it rejoined.
};

inline const char* to_string(acceptor_status x) {
  switch (x) {
    case acceptor_status::unknown:
      return "";
    case acceptor_status::voting:
      return "voting";
    case acceptor_status::rejoining:
      return "rejoining";
  }
  return "?";
}

/// What a server reports about itself for `/status`.
struct server_status {
  server_id id = 0;
  bool alive = false;
  server_role role = server_role::down;
  ballot bal;       ///< Highest ballot the proposer knows.
  server_id leader = 0;
  uint64_t chosen_upto = 0;    ///< Proposer's contiguous chosen prefix.
  uint64_t delivered_upto = 0; ///< Learner's applied prefix.
  uint64_t history_size = 0;   ///< Chat messages in the history.
  uint32_t sessions = 0;       ///< Clients on this server.
  acceptor_status acceptor = acceptor_status::unknown;
  std::string waiting;         ///< Why a rejoining acceptor does not vote yet.
  uint64_t timeout_ms = 0;     ///< Round trip a majority answers within.
  uint32_t peers = 0; ///< Other servers whose roles this one can address.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_status& x) {
  return f(x.id, x.alive, x.role, x.bal, x.leader, x.chosen_upto,
           x.delivered_upto, x.history_size, x.sessions, x.acceptor,
           x.waiting, x.timeout_ms, x.peers);
}

/// A client as the load balancer sees it, for `/who`.
struct client_placement {
  uint64_t client = 0;
  std::string name;
  server_id server = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_placement& x) {
  return f(x.client, x.name, x.server);
}

/// Load balancer -> operator: the whole cluster, for `/who` and `/status`.
struct cluster_view {
  bool ready = false; ///< Every configured server has registered once.
  std::vector<server_status> servers;
  std::vector<client_placement> clients;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(x.ready, x.servers, x.clients);
}

/// Operator command, forwarded by the load balancer to a server host.
enum class operator_action : uint8_t {
  kill = 0,      ///< Crash the server's actors (storage survives, as a disk).
  restart = 1,   ///< Start the server's actors again on the same storage.
  skip_slot = 2, ///< The leader leaves one slot unproposed (a hole).
  wipe = 3,      ///< Crash the server and lose its storage (a dead disk);
                 ///< /restart then rejoins with new, empty storage.
};

inline const char* to_string(operator_action x) {
  switch (x) {
    case operator_action::kill:
      return "kill";
    case operator_action::restart:
      return "restart";
    case operator_action::skip_slot:
      return "skip_slot";
    case operator_action::wipe:
      return "wipe";
  }
  return "?";
}

/// The action `to_string` names `text` (the web console's "op" requests).
inline std::optional<operator_action> operator_action_from(std::string_view text) {
  for (auto x : {operator_action::kill, operator_action::restart,
                 operator_action::skip_slot, operator_action::wipe})
    if (text == to_string(x))
      return x;
  return std::nullopt;
}

struct operator_command {
  operator_action action = operator_action::kill;
  server_id target = 0; ///< 0 with skip_slot: whichever server leads.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operator_command& x) {
  return f(x.action, x.target);
}

} // namespace cafchat

namespace cafchat {

/// A peer message on its way through the network-fault simulator: `payload`
/// goes from server `from` to the actor `dest` on server `to`, unless the
/// simulator drops it. With the simulator off, peers send `payload` to
/// `dest` directly and this wrapper never exists.
struct routed {
  server_id from = 0;
  server_id to = 0;
  caf::actor dest;
  caf::message payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, routed& x) {
  return f(x.from, x.to, x.dest, x.payload);
}

} // namespace cafchat

namespace cafchat {

// -- controlling the network-fault simulator (/faults) -------------------------

/// What a `sim_control` asks the simulator to change.
enum class sim_action : uint8_t {
  query = 0,      ///< Change nothing; just report.
  set_rule = 1,   ///< Give `server` the rule `rule` (server_rule's syntax in
                  ///< actors/simulator/sim_options.hpp, "p:10::a:20::c:30"
                  ///< or "d:0"), replacing its old one.
  clear_rule = 2, ///< Remove `server`'s rule.
  drop = 3,       ///< Lose each message with `probability`.
  duplicate = 4,  ///< Deliver each message twice with `probability`.
  delay = 5,      ///< Delay each message uniformly in [`min_ms`, `max_ms`].
  omission = 6,   ///< Omission fault `on` or off; with `min_ms`/`max_ms` not
                  ///< both 0, also the rotation range in ms.
  isolate = 7,    ///< Cut `server` off from every other server.
  split = 8,      ///< `servers` on one side, every other server on the other
                  ///< (replaces any partition).
  heal = 9,       ///< Remove every partition.
  all_off = 10,   ///< No faults at all ("/faults off").
};

/// Decoding refuses a probability that is not a finite number: CAF 0.17's
/// encoder never returns from an infinite double (its pack754 halves
/// infinity forever) and has no encoding for NaN, so such a value must not
/// enter, and none is ever sent (parse_faults_command refuses them too).
inline caf::error finite_or_refuse(double x) {
  if (std::isfinite(x))
    return caf::none;
  return caf::make_error(caf::sec::invalid_argument,
                         "a probability that is not a finite number");
}

/// Operator -> simulator: change one fault setting. Answered with a
/// `sim_report` of the resulting state, or with a cafchat error
/// (`invalid_fault`, `unknown_server`) that changes nothing.
struct sim_control {
  sim_action action = sim_action::query;
  server_id server = 0;           ///< set_rule, clear_rule, isolate.
  std::string rule;               ///< set_rule.
  double probability = 0;         ///< drop, duplicate: in [0, 1].
  uint32_t min_ms = 0;            ///< delay, omission.
  uint32_t max_ms = 0;            ///< delay, omission.
  bool on = false;                ///< omission.
  std::vector<server_id> servers; ///< split: one side.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sim_control& x) {
  auto finite = caf::meta::load_callback(
    [&x] { return finite_or_refuse(x.probability); });
  return f(x.action, x.server, x.rule, x.probability, x.min_ms, x.max_ms, x.on,
           x.servers, finite);
}

/// Simulator -> operator: every fault setting in force, the omission-faulty
/// server, what happened so far, and all of it in one line for humans.
struct sim_report {
  uint64_t seed = 0;
  uint32_t delay_min_ms = 0;
  uint32_t delay_max_ms = 0;
  double drop_probability = 0;
  double duplicate_probability = 0;
  bool omission = false;
  uint32_t rotation_min_ms = 0;
  uint32_t rotation_max_ms = 0;
  server_id faulty = 0;                         ///< 0: none.
  std::map<server_id, std::string> rules;       ///< As server_rule writes them.
  std::vector<std::vector<server_id>> partitions; ///< As sim_options.
  std::vector<server_id> live;                  ///< Servers up, as announced.
  uint64_t forwarded = 0;
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  std::string summary; ///< E.g. "drop 0.2; rule 2 p:10; forwarded 40, ...".
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sim_report& x) {
  auto finite = caf::meta::load_callback([&x] {
    if (auto err = finite_or_refuse(x.drop_probability))
      return err;
    return finite_or_refuse(x.duplicate_probability);
  });
  return f(x.seed, x.delay_min_ms, x.delay_max_ms, x.drop_probability,
           x.duplicate_probability, x.omission, x.rotation_min_ms,
           x.rotation_max_ms, x.faulty, x.rules, x.partitions, x.live,
           x.forwarded, x.dropped, x.duplicated, x.summary, finite);
}

} // namespace cafchat
