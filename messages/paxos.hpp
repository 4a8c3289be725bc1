#pragma once

// Paxos messages between servers: phase 1 (prepare/promise), phase 2
// (accept/accepted), rejections (nack), learning (decide, learn), leader
// liveness (heartbeat, prevote) and catch-up.
//
// This header deliberately includes nothing from CAF: the protocol cores in
// actors/ use these types and stay framework-free. Each struct is followed by
// its `inspect` overload, which CAF finds by ADL when it serializes a message,
// and each peer message also by its `peer_traits` (its name, the role that
// receives it, its phase). The list `peer_messages` at the end names every
// peer message once; the core outputs' variant (actors/common/outgoing.hpp),
// the CAF registration (messages/registry.cpp), the fault simulator's phase
// and name lookup (actors/simulator/simulator.cpp) and the peer links'
// routing (actors/common/peer_links.cpp) are all derived from it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace cafchat {

/// Identifies a server (1..n). 0 means "none" or "every server".
using server_id = uint32_t;

/// The roles of a server, as receivers of peer messages.
enum class role : uint8_t { acceptor, proposer, learner };

/// The Paxos phase of a peer message. The fault simulator's per-server rules
/// delay messages by phase (see server_rule in
/// actors/simulator/sim_options.hpp); the letters are the rules' own.
enum class msg_phase : char {
  none = 0,      ///< Heartbeats, prevotes, forwards, catch-up, state queries.
  prepare = 'p', ///< Phase 1: prepare, promise, nack of a prepare, rejoin.
  accept = 'a',  ///< Phase 2: accept, accepted, learn, nack of an accept.
  commit = 'c',  ///< decide.
};

/// What the code that routes, registers and logs peer messages needs to know
/// about a peer message type `T`, declared beside its struct:
///
///   static constexpr std::string_view name;   // "prepare": log, registry
///   static constexpr role receiver;           // the role that handles it
///   static constexpr msg_phase phase(const T&); // for the fault simulator
///
/// There is no general definition: a type in `peer_messages` without its
/// traits does not compile.
template <class T>
struct peer_traits;

/// Declares the traits of a peer message whose phase does not depend on its
/// content, e.g. CAFCHAT_PEER_MESSAGE(prepare, acceptor, prepare).
#define CAFCHAT_PEER_MESSAGE(type, receiver_role, message_phase)              \
  template <>                                                                  \
  struct peer_traits<type> {                                                   \
    static constexpr std::string_view name = #type;                            \
    static constexpr role receiver = role::receiver_role;                      \
    static constexpr msg_phase phase(const type&) {                            \
      return msg_phase::message_phase;                                         \
    }                                                                          \
  }

/// "1, 2, 3": server ids for messages to people.
inline std::string id_list(const std::vector<server_id>& ids) {
  std::string s;
  for (auto id : ids) {
    if (!s.empty())
      s += ", ";
    s += std::to_string(id);
  }
  return s;
}

/// A ballot: (round, node), totally ordered by round first, then node id, so
/// two proposers never use the same ballot.
struct ballot {
  uint64_t round = 0;
  server_id node = 0;

  bool is_zero() const { return round == 0 && node == 0; }
  friend bool operator==(const ballot& a, const ballot& b) {
    return a.round == b.round && a.node == b.node;
  }
  friend bool operator!=(const ballot& a, const ballot& b) { return !(a == b); }
  friend bool operator<(const ballot& a, const ballot& b) {
    return std::tie(a.round, a.node) < std::tie(b.round, b.node);
  }
  friend bool operator>(const ballot& a, const ballot& b) { return b < a; }
  friend bool operator<=(const ballot& a, const ballot& b) { return !(b < a); }
  friend bool operator>=(const ballot& a, const ballot& b) { return !(a < b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ballot& x) {
  return f(x.round, x.node);
}

/// One chat message as its client submitted it. `(client, seq)` identifies it
/// uniquely: the state machine applies a client's commands once each, in seq
/// order.
struct command {
  uint64_t client = 0; ///< Client id, chosen by the client, stable over reroutes.
  uint64_t seq = 0;    ///< The client's sequence number, from 1, no gaps.
  std::string from;    ///< Sender name shown to users.
  std::string text;    ///< The message, UTF-8, at most `max_text_bytes`.

  /// A withdrawal: "skip my `seq`, a server refused it". It carries no
  /// text, which no chat message can have, and is ordered like any command,
  /// so that the client's later messages are applied after it (see
  /// actors/learner/chat_state.hpp).
  static command withdrawal(uint64_t client, uint64_t seq) {
    return command{client, seq, {}, {}};
  }
  bool is_withdrawal() const { return text.empty(); }

  friend bool operator==(const command& a, const command& b) {
    return a.client == b.client && a.seq == b.seq && a.from == b.from
           && a.text == b.text;
  }
  friend bool operator!=(const command& a, const command& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  return f(x.client, x.seq, x.from, x.text);
}

/// What a slot holds: a batch of one or more commands, or a no-op that a new
/// leader uses to fill a hole.
enum class value_kind : uint8_t { noop = 0, batch = 1 };

struct value {
  value_kind kind = value_kind::noop;
  std::vector<command> commands; ///< Empty for a no-op.
  /// When the leader formed the batch: UTC milliseconds since the epoch (0
  /// for a no-op). Part of the value, so it is chosen with the commands and
  /// every replica shows the same time; a value re-proposed by a later
  /// leader keeps it. A leader never stamps a batch earlier than what it
  /// learned or stamped before (actors/proposer/proposer_core.hpp).
  uint64_t time_ms = 0;

  static value noop() { return value{}; }
  static value of(std::vector<command> cmds, uint64_t time_ms = 0) {
    return value{value_kind::batch, std::move(cmds), time_ms};
  }
  bool is_noop() const { return kind == value_kind::noop; }
  /// Bytes of payload, used to bound batches.
  size_t payload_bytes() const {
    size_t n = 0;
    for (auto& c : commands)
      n += c.from.size() + c.text.size() + 16;
    return n;
  }
  friend bool operator==(const value& a, const value& b) {
    return a.kind == b.kind && a.commands == b.commands
           && a.time_ms == b.time_ms;
  }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, value& x) {
  return f(x.kind, x.commands, x.time_ms);
}

/// A slot an acceptor accepted: reported in a promise so that a new leader
/// adopts the highest-ballot value of every slot.
struct accepted_slot {
  uint64_t slot = 0;
  ballot bal;
  value val;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accepted_slot& x) {
  return f(x.slot, x.bal, x.val);
}

/// The ballot a promise reports a slot at when the acceptor knows the slot
/// is chosen (from its own learner) rather than accepted: above every real
/// ballot, so that a new leader adopts that value.
constexpr ballot chosen_ballot() {
  return ballot{UINT64_MAX, UINT32_MAX};
}

// -- phase 1 -----------------------------------------------------------------

/// Phase 1a, proposer -> every acceptor: promise `bal` for every slot from
/// `first_slot` on. The sender is `bal.node`.
///
/// Requests carry `sent`, the sender's tick when it sent them, and replies
/// echo it back (`echo`): a round-trip sample that is exact even for a
/// retransmission (TCP's timestamps, RFC 7323). actors/common/rtt.hpp turns
/// the samples into timeouts.
struct prepare {
  ballot bal;
  uint64_t first_slot = 1;
  uint64_t sent = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prepare& x) {
  return f(x.bal, x.first_slot, x.sent);
}

CAFCHAT_PEER_MESSAGE(prepare, acceptor, prepare);

/// Phase 1b, acceptor -> proposer `bal.node`: the acceptor promised `bal`
/// and reports every slot >= `first_slot` it has accepted (a slot reported
/// at `chosen_ballot()` is known to be chosen with that value).
///
/// `epoch` is the acceptor's storage epoch (0 for a founding member; a new
/// one each time it rejoins after losing its storage), and `epochs` the
/// newest epoch it knows of every acceptor that ever rejoined. A proposer
/// does not count a promise whose epoch another promise shows to be stale:
/// it was made by storage that has since been lost.
struct promise {
  ballot bal;
  server_id from = 0;
  uint64_t first_slot = 1;
  std::vector<accepted_slot> accepted;
  uint64_t epoch = 0;
  std::vector<std::pair<server_id, uint64_t>> epochs;
  uint64_t echo = 0; ///< The prepare's `sent`.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, promise& x) {
  return f(x.bal, x.from, x.first_slot, x.accepted, x.epoch, x.epochs, x.echo);
}

CAFCHAT_PEER_MESSAGE(promise, proposer, prepare);

// -- phase 2 -----------------------------------------------------------------

/// Phase 2a, proposer -> every acceptor: accept `val` in `slot` at `bal`.
struct accept {
  ballot bal;
  uint64_t slot = 0;
  value val;
  uint64_t sent = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accept& x) {
  return f(x.bal, x.slot, x.val, x.sent);
}

CAFCHAT_PEER_MESSAGE(accept, acceptor, accept);

/// Phase 2b, acceptor -> proposer `bal.node`: `slot` accepted at `bal`.
struct accepted {
  ballot bal;
  uint64_t slot = 0;
  server_id from = 0;
  uint64_t echo = 0; ///< The accept's `sent`.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accepted& x) {
  return f(x.bal, x.slot, x.from, x.echo);
}

CAFCHAT_PEER_MESSAGE(accepted, proposer, accept);

/// Acceptor -> proposer: the request at `rejected` lost to the higher ballot
/// `promised`. `slot` is 0 for a rejected prepare.
struct nack {
  ballot rejected;
  ballot promised;
  uint64_t slot = 0;
  server_id from = 0;
  uint64_t echo = 0; ///< The refused request's `sent`.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, nack& x) {
  return f(x.rejected, x.promised, x.slot, x.from, x.echo);
}

/// A nack belongs to the phase of the request it refuses.
template <>
struct peer_traits<nack> {
  static constexpr std::string_view name = "nack";
  static constexpr role receiver = role::proposer;
  static constexpr msg_phase phase(const nack& x) {
    return x.slot == 0 ? msg_phase::prepare : msg_phase::accept;
  }
};

// -- learning ----------------------------------------------------------------

/// Proposer -> every learner: `val` is chosen in `slot`.
struct decide {
  decide() = default;
  decide(uint64_t s, value v, ballot b = {}, bool is_bare = false)
    : slot(s), val(std::move(v)), bal(b), bare(is_bare) {}

  uint64_t slot = 0;
  value val;
  /// With `bare`: `val` is empty, and the chosen value is the one this
  /// learner's own acceptor accepted in `slot` at `bal` (and told it about).
  /// The leader sends bare decides to the servers whose acceptors accepted,
  /// so a batch crosses the network once per follower, not twice.
  ballot bal;
  bool bare = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decide& x) {
  return f(x.slot, x.val, x.bal, x.bare);
}

CAFCHAT_PEER_MESSAGE(decide, learner, commit);

/// Acceptor -> learners: the acceptor accepted `val` in `slot` at `bal`.
/// Always to its own server's learner (which then needs only a bare
/// decide); with `learn = votes` to every learner, and a learner that counts
/// a majority of these for one ballot knows the value is chosen, one hop
/// before `decide`.
struct learn {
  ballot bal;
  uint64_t slot = 0;
  server_id from = 0;
  value val;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, learn& x) {
  return f(x.bal, x.slot, x.from, x.val);
}

CAFCHAT_PEER_MESSAGE(learn, learner, accept);

// -- leader liveness ---------------------------------------------------------

/// Leader -> every proposer, every heartbeat interval: "I lead at `bal`, and
/// every slot up to `chosen_upto` is chosen; my next heartbeat follows in
/// `interval` ticks" (followers wait for the leader at least that long).
struct heartbeat {
  ballot bal;
  server_id from = 0;
  uint64_t chosen_upto = 0;
  uint64_t sent = 0;
  uint64_t interval = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat& x) {
  return f(x.bal, x.from, x.chosen_upto, x.sent, x.interval);
}

CAFCHAT_PEER_MESSAGE(heartbeat, proposer, none);

/// Proposer -> leader: answer to a heartbeat. `bal` is the highest ballot the
/// follower knows; a stale leader steps down on seeing a higher one.
struct heartbeat_reply {
  ballot bal;
  server_id from = 0;
  uint64_t chosen_upto = 0;
  uint64_t echo = 0; ///< The heartbeat's `sent`.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat_reply& x) {
  return f(x.bal, x.from, x.chosen_upto, x.echo);
}

CAFCHAT_PEER_MESSAGE(heartbeat_reply, proposer, none);

/// Would-be candidate -> every proposer: "may I start phase 1 with a round
/// above `round`?" Granted only by a proposer that has not heard from a live
/// leader for an election timeout, so a server that can send but not receive
/// cannot force elections on a healthy cluster (etcd's PreVote).
struct prevote_request {
  server_id from = 0;
  uint64_t round = 0;
  uint64_t chosen_upto = 0;
  uint64_t sent = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prevote_request& x) {
  return f(x.from, x.round, x.chosen_upto, x.sent);
}

CAFCHAT_PEER_MESSAGE(prevote_request, proposer, none);

struct prevote_reply {
  server_id from = 0;
  uint64_t round = 0;
  bool granted = false;
  uint64_t echo = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prevote_reply& x) {
  return f(x.from, x.round, x.granted, x.echo);
}

CAFCHAT_PEER_MESSAGE(prevote_reply, proposer, none);

/// Proposer -> leader's proposer: client commands to order. `from` is the
/// forwarding server.
struct forward {
  server_id from = 0;
  std::vector<command> commands;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forward& x) {
  return f(x.from, x.commands);
}

CAFCHAT_PEER_MESSAGE(forward, proposer, none);

// -- acceptor recovery -------------------------------------------------------
//
// An acceptor whose storage was lost (a new disk, a wiped data directory)
// cannot tell what it promised or accepted before, so it does not vote until
// it has rejoined: it asks the others about themselves (state_query), then
// runs a phase 1 of its own over them (rejoin_prepare) with a new storage
// epoch, and adopts what a majority of voting peers reported. See
// docs/protocol.md, "Lost storage".

/// Rejoining acceptor -> every other acceptor: "tell me about yourself".
struct state_query {
  server_id from = 0;
  uint64_t incarnation = 0; ///< Unique per start of the asking server.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_query& x) {
  return f(x.from, x.incarnation);
}

CAFCHAT_PEER_MESSAGE(state_query, acceptor, none);

/// Acceptor -> the asking acceptor.
struct state_reply {
  server_id from = 0;
  uint64_t incarnation = 0;      ///< The asker's, echoed.
  ballot promised;               ///< The replier's promise.
  bool voting = false;           ///< The replier votes (it is not rejoining).
  uint64_t known_epoch = 0;      ///< The asker's newest epoch the replier knows.
  uint64_t delivered_upto = 0;   ///< The replier's learner has every slot to here.
  uint64_t recovered_floor = 0;  ///< The replier's own rejoin floor (below).
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_reply& x) {
  return f(x.from, x.incarnation, x.promised, x.voting, x.known_epoch,
           x.delivered_upto, x.recovered_floor);
}

CAFCHAT_PEER_MESSAGE(state_reply, acceptor, none);

/// Rejoining acceptor -> every other acceptor: a phase 1 of its own. "Promise
/// `bal`, record that my storage is now at `epoch`, and report every slot
/// from `first_slot` on that you accepted."
struct rejoin_prepare {
  server_id from = 0;
  uint64_t epoch = 0;
  ballot bal;
  uint64_t first_slot = 1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rejoin_prepare& x) {
  return f(x.from, x.epoch, x.bal, x.first_slot);
}

CAFCHAT_PEER_MESSAGE(rejoin_prepare, acceptor, prepare);

/// Acceptor -> the rejoining acceptor. With `ok` the replier promised `bal`,
/// recorded `epoch` as the asker's, and reports its accepted slots from the
/// asked slot on and every storage epoch it knows. Without `ok` nothing
/// changed, and `promised`, `known_epoch` and `learn_upto` say what a new
/// attempt needs: a higher ballot, a higher epoch, or a learner that has
/// every slot up to `learn_upto` first.
struct rejoin_reply {
  server_id from = 0;
  ballot bal;
  uint64_t epoch = 0;
  bool ok = false;
  ballot promised;
  uint64_t known_epoch = 0;
  uint64_t learn_upto = 0;
  std::vector<accepted_slot> accepted;
  std::vector<std::pair<server_id, uint64_t>> epochs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rejoin_reply& x) {
  return f(x.from, x.bal, x.epoch, x.ok, x.promised, x.known_epoch,
           x.learn_upto, x.accepted, x.epochs);
}

CAFCHAT_PEER_MESSAGE(rejoin_reply, acceptor, prepare);

// -- catch-up ----------------------------------------------------------------

/// Learner -> peer learner: send me the chosen values of up to `max_slots`
/// slots from `first_slot` on.
struct catchup_request {
  server_id from = 0;
  uint64_t first_slot = 1;
  uint32_t max_slots = 0;
  uint64_t sent = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catchup_request& x) {
  return f(x.from, x.first_slot, x.max_slots, x.sent);
}

CAFCHAT_PEER_MESSAGE(catchup_request, learner, none);

/// Learner -> learner: chosen values, in slot order, contiguous from the
/// requested slot; `chosen_upto` is the sender's contiguous chosen prefix.
struct catchup_reply {
  server_id from = 0;
  std::vector<decide> slots;
  uint64_t chosen_upto = 0;
  uint64_t echo = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catchup_reply& x) {
  return f(x.from, x.slots, x.chosen_upto, x.echo);
}

CAFCHAT_PEER_MESSAGE(catchup_reply, learner, none);

// -- every peer message, once ------------------------------------------------

template <class... Ts>
struct type_list {};

template <class T>
struct type_tag {
  using type = T;
};

/// Calls `f(type_tag<T>{})` for every type `T` of the list, in order.
template <class F, class... Ts>
constexpr void for_each_type(type_list<Ts...>, F&& f) {
  (f(type_tag<Ts>{}), ...);
}

/// Every message one server's role sends to another's. A new peer message is
/// a struct with its inspect and peer_traits above, and an entry here.
using peer_messages
  = type_list<prepare, promise, accept, accepted, nack, decide, learn,
              heartbeat, heartbeat_reply, prevote_request, prevote_reply,
              forward, catchup_request, catchup_reply, state_query,
              state_reply, rejoin_prepare, rejoin_reply>;

template <class T, class = void>
struct has_peer_traits : std::false_type {};

template <class T>
struct has_peer_traits<
  T, std::void_t<decltype(peer_traits<T>::name),
                 decltype(peer_traits<T>::receiver),
                 decltype(peer_traits<T>::phase(std::declval<const T&>()))>>
  : std::true_type {};

template <class... Ts>
constexpr bool all_have_peer_traits(type_list<Ts...>) {
  return (has_peer_traits<Ts>::value && ...);
}

static_assert(all_have_peer_traits(peer_messages{}),
              "every type in peer_messages needs its peer_traits (name, "
              "receiver, phase) beside its struct");

} // namespace cafchat
