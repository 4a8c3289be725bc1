#pragma once

// Small helpers every role actor uses.

#include <chrono>
#include <cstdint>
#include <memory>

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/response_promise.hpp"
#include "caf/result.hpp"
#include "caf/scheduled_actor.hpp"

namespace cafchat {

class event_log;

/// Drops unexpected asynchronous messages silently and answers unexpected
/// requests with an error. CAF 0.17's default handler answers even a plain
/// send with an error message, and that error kills an event-based sender
/// that has no error handler: one stray message must not take down a peer.
void drop_unexpected(caf::scheduled_actor* self);

/// Logs an exception that escapes a handler (a broken invariant throws
/// std::logic_error) as a "crash" event with its message, and to stderr,
/// before the actor dies with exit_reason::unhandled_exception.
void log_crashes(caf::scheduled_actor* self, std::shared_ptr<event_log> log,
                 uint32_t server, const char* role);

/// Whether log_crashes also writes to stderr (on by default; the seeded
/// simulation, which stops servers by the thousand, turns it off and keeps
/// the event log).
void print_crashes(bool on);

/// Milliseconds on the actor's clock: wall time in production, simulated
/// time under the test coordinator. Only used to stamp event-log lines.
int64_t now_ms(caf::scheduled_actor* self);

/// Hands the current request on to `dest`, whose answer (a T, or an error)
/// goes back to the original requester. A plain `delegate` would do, but its
/// result type does not name T.
template <class T, class Self, class... Ts>
caf::result<T> relay(Self* self, const caf::actor& dest, Ts&&... xs) {
  auto rp = self->make_response_promise();
  rp.delegate(dest, std::forward<Ts>(xs)...);
  return rp;
}

inline caf::timespan ms(uint64_t n) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::milliseconds(n));
}

} // namespace cafchat
