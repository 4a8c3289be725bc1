#pragma once

// The one way a role actor drives its protocol core, the same for the
// acceptor, the proposer and the learner (etcd raft's RawNode: Step, then
// Ready; persist, then send).
//
//   message, tick --> step --> core --> core_output{writes, send, notes}
//                                             |
//                   driver.stepped(out)       at once: event-log lines
//                                             |
//                     [group commit: held, merged with the next outputs,
//                      until the flush queued behind them]
//                                             |
//                   driver.persist(writes)    durable when it returns
//                   driver.sending(writes, send)   monitor, event log
//                   links.send(...)           every message, in order
//                   driver.sent()             what goes out last (the
//                                             learner's client entries)
//
// The core decides everything: what to store, what to send, to whom and
// when. The actor decodes, steps, and then does what the output says. Each
// actor describes itself with a small driver struct:
//
//   struct some_driver : driver_base<some_core, self_ptr, some_config> {
//     static constexpr bool group_commit = ...;
//     held_output<Writes>* held();        // with group_commit only
//     void stepped(const some_core::output&);
//     void persist(Writes&);
//     void sending(const Writes&, const std::vector<outgoing>&);
//     void sent();                        // optional: driver_base's is empty
//   };

#include <type_traits>
#include <utility>
#include <vector>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/outgoing.hpp"
#include "actors/common/peer_auth.hpp"
#include "actors/common/peer_links.hpp"
#include "messages/atoms.hpp"

namespace cafchat {

/// Outputs held for one group commit: a single flush makes every write that
/// arrived together durable, then sends all their messages. `Writes` merges.
template <class Writes>
struct held_output {
  Writes writes;
  std::vector<outgoing> send;
  bool flush_queued = false;
};

/// What every driver has: its actor (whose state holds `core` and `links`)
/// and its configuration (with `check_invariants`).
template <class Core, class Self, class Config>
struct driver_base {
  using core_type = Core;
  Self self;
  const Config& cfg;

  Core& core() { return *self->state.core; }
  const peer_links& links() { return self->state.links; }
  /// Check the core's invariants around every input.
  bool check() const { return cfg.check_invariants; }
  /// Called after the sends; a role with more to send last overrides it.
  void sent() {}
};

/// Makes `writes` durable, then sends `send` (etcd raft's Ready: "saved to
/// stable storage BEFORE Messages are sent").
template <class Driver, class Writes>
void commit(Driver& driver, Writes& writes, std::vector<outgoing>& send) {
  if (!writes.empty())
    driver.persist(writes);
  driver.sending(writes, send);
  for (auto& o : send)
    driver.links().send(driver.self, std::move(o));
  driver.sent();
}

/// Gives `input` to the role's core: a message (core.handle(input)) or a
/// function of the core (for start, tick and the other named inputs). With
/// driver.check() the core's invariants and its transition are checked
/// around it (a broken one throws, and the actor crashes). Then the output
/// goes on as the diagram above shows.
/// The server a peer message says it comes from: its `from`, else its
/// ballot's node; 0 if it names none (a decide).
template <class T, class = void>
struct has_from_field : std::false_type {};

template <class T>
struct has_from_field<T, std::void_t<decltype(std::declval<const T&>().from)>>
  : std::true_type {};

template <class T, class List>
struct in_type_list;

template <class T, class... Ts>
struct in_type_list<T, type_list<Ts...>>
  : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};

template <class T>
server_id claimed_server(const T& x) {
  if constexpr (std::is_same_v<T, decide>)
    return 0;
  else if constexpr (has_from_field<T>::value)
    return x.from;
  else
    return x.bal.node;
}

template <class Driver, class Input>
void step(Driver&& driver, Input&& input) {
  using core_type = typename std::decay_t<Driver>::core_type;
  using input_type = std::decay_t<Input>;
  // A peer message is taken only from the server it claims to come from
  // (actors/common/authority.hpp); anything else that is not a function of
  // the core comes from this process only.
  if constexpr (in_type_list<input_type, local_messages>::value) {
    if (!admit(driver.self, msg_class::local_only,
               peer_traits<input_type>::name))
      return;
  } else if constexpr (has_peer_traits<input_type>::value) {
    if (!admit(driver.self, msg_class::peer, peer_traits<input_type>::name,
               claimed_server(input)))
      return;
  } else if constexpr (!std::is_invocable_v<Input, core_type&>) {
    if (!admit(driver.self, msg_class::local_only, "local role input"))
      return;
  }
  auto& core = driver.core();
  auto run = [&] {
    if constexpr (std::is_invocable_v<Input, core_type&>)
      return input(core);
    else
      return core.handle(input);
  };
  typename core_type::output out;
  if (driver.check()) {
    auto before = core.snap();
    out = run();
    core.check_transition(before);
  } else {
    out = run();
  }
  driver.stepped(out);
  if constexpr (!std::decay_t<Driver>::group_commit) {
    commit(driver, out.writes, out.send);
  } else {
    auto& held = *driver.held();
    held.writes.merge(std::move(out.writes));
    for (auto& o : out.send)
      held.send.push_back(std::move(o));
    if (!held.flush_queued && (!held.send.empty() || !held.writes.empty())) {
      held.flush_queued = true;
      driver.self->send(driver.self, flush_atom::value);
    }
  }
}

/// The queued flush of a group commit: everything held, persisted and sent.
template <class Driver>
void flush(Driver&& driver) {
  auto& held = *driver.held();
  auto writes = std::move(held.writes);
  auto send = std::move(held.send);
  held = {};
  commit(driver, writes, send);
}

/// Schedules the next tick if the core wants one.
template <class Driver>
void start_ticks(Driver&& driver, uint32_t tick_ms) {
  if (driver.core().wants_ticks())
    driver.self->delayed_send(driver.self, ms(tick_ms), tick_atom::value);
}

/// One tick of the role's timer: core.tick(), and the next tick while the
/// core wants them.
template <class Driver>
void tick(Driver&& driver, uint32_t tick_ms) {
  step(driver, [](auto& core) { return core.tick(); });
  start_ticks(driver, tick_ms);
}

} // namespace cafchat
