#pragma once

// Messages between the roles of one server. A core sends them like any other
// message, addressed to its own server id: each says what one role knows
// that the others cannot see in their own traffic. They never cross the
// network (peer_links sends to its own server directly, past the fault
// simulator), so they are not registered for serialization; each still has
// its `inspect`, which CAF needs to put it in a message.
//
// Like every core output, the type names the receiving role (see
// actors/common/outgoing.hpp).

#include <cstdint>

#include "messages/paxos.hpp"

namespace cafchat {

/// Learner -> its server's proposer: the learner holds every slot up to
/// `upto` durably. The proposer's phase 1 starts right after it, and its
/// window counts from it.
struct learned_for_proposer {
  uint64_t upto = 0;
  /// The time of the last history entry up to `upto` (value::time_ms): no
  /// batch the proposer stamps is earlier.
  uint64_t time_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, learned_for_proposer& x) {
  return f(x.upto, x.time_ms);
}

CAFCHAT_PEER_MESSAGE(learned_for_proposer, proposer, none);

/// Learner -> its server's acceptor: the same. Accepted slots up to `upto`
/// leave the acceptor's memory, and a rejoin waiting for the learner goes on.
struct learned_for_acceptor {
  uint64_t upto = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, learned_for_acceptor& x) {
  return f(x.upto);
}

CAFCHAT_PEER_MESSAGE(learned_for_acceptor, acceptor, none);

/// Proposer or acceptor -> its server's learner: slots up to `chosen_upto`
/// are chosen (a leader's heartbeat said so, or the peers a rejoining
/// acceptor asked); `peer` has them and is the first to ask (0: none).
struct chosen_hint {
  uint64_t chosen_upto = 0;
  server_id peer = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chosen_hint& x) {
  return f(x.chosen_upto, x.peer);
}

CAFCHAT_PEER_MESSAGE(chosen_hint, learner, none);

/// Acceptor -> its server's proposer: the acceptor votes (again), having
/// promised `promised`, with storage of `epoch`. The proposer may campaign
/// from now on, above that ballot.
struct joined {
  ballot promised;
  uint64_t epoch = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, joined& x) {
  return f(x.promised, x.epoch);
}

CAFCHAT_PEER_MESSAGE(joined, proposer, none);

/// Every message between the roles of one server: core outputs like the
/// peer messages (with traits, so peer_links routes them the same way), but
/// never serialized, so not registered.
using local_messages = type_list<learned_for_proposer, learned_for_acceptor,
                                 chosen_hint, joined>;

static_assert(all_have_peer_traits(local_messages{}),
              "every type in local_messages needs its peer_traits");

} // namespace cafchat
