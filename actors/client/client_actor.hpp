#pragma once

// The chat client: what a user's shell (or a test, or the benchmark) talks
// to. It asks the load balancer for a server, opens a session there, sends
// each message with the next sequence number, and keeps every message until
// it sees it in the history (acknowledged).
//
//   connecting --assignment + welcome--> connected --session down--> connecting
//        ^   \--refused / timeout: retry after a pause                  |
//        +----------------------------------------------------------------+
//
// On reconnecting it resumes the history after the last index it saw and
// resends every unacknowledged message in order; the state machine drops the
// ones that had made it, so the user sees each message once. A message still
// unacknowledged `retry_ms` after it went out makes it resend as well (a
// lost forward, a full queue, a leader change); resends that keep bringing
// nothing make it reroute, as if its server had died (it may be up but cut
// off from the others).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/io/middleman_actor.hpp"
#include "caf/stateful_actor.hpp"
#include <deque>
#include <map>

#include "actors/common/rtt.hpp"
#include "actors/common/token_bucket.hpp"
#include "messages/client.hpp"
#include "messages/control.hpp"

namespace cafchat {

/// The kinds of notice; `to_string` gives the "event" of the shell's JSON
/// lines and the web console's notices.
enum class notice_kind : uint8_t {
  connected,   ///< A session on `server` is open.
  waiting,     ///< No server can take the client yet (`detail`: why).
  withdrawn,   ///< Message `seq` will not be delivered (a server refused it).
  gap,         ///< The history jumped (`seq` holds the new index).
  server_lost, ///< The session's server is gone; rerouting.
  rejected,    ///< The server refused message `seq` (`detail`: why).
  reroute,     ///< Leaving `server`: up, but nothing gets through it.
  refused,     ///< The cluster will not take this client (`detail`: why:
               ///< "name in use", an invalid name); the client stops.
};

inline const char* to_string(notice_kind x) {
  switch (x) {
    case notice_kind::connected:
      return "connected";
    case notice_kind::waiting:
      return "waiting";
    case notice_kind::withdrawn:
      return "withdrawn";
    case notice_kind::gap:
      return "gap";
    case notice_kind::server_lost:
      return "server_lost";
    case notice_kind::rejected:
      return "rejected";
    case notice_kind::reroute:
      return "reroute";
    case notice_kind::refused:
      return "refused";
  }
  return "?";
}

/// Something the user should know about that is not a chat message.
struct client_notice {
  notice_kind event = notice_kind::connected;
  server_id server = 0;
  uint64_t seq = 0;
  std::string detail;
};

/// Receives what the client sees. Called on the client actor's thread, one
/// call at a time.
class client_listener {
public:
  virtual ~client_listener() = default;
  virtual void on_entries(const std::vector<chat_entry>& entries) = 0;
  virtual void on_notice(const client_notice& notice) = 0;
  /// Every own message up to `seq` is in the history.
  virtual void on_acknowledged(uint64_t seq) { static_cast<void>(seq); }
  /// `text` is on its way as message `seq` (a message the client refused at
  /// once takes no seq and is not reported here).
  virtual void on_said(uint64_t seq, const std::string& text) {
    static_cast<void>(seq);
    static_cast<void>(text);
  }
  /// While the session reads the history (after the entries of a chunk):
  /// the client has every entry up to `upto`, and the server's history held
  /// `size` entries when it read the chunk. The first call after joining
  /// says how much history there was then.
  virtual void on_history(uint64_t upto, uint64_t size) {
    static_cast<void>(upto);
    static_cast<void>(size);
  }
};

struct client_config {
  /// The client's secret (actors/common/client_key.hpp): it says hello with
  /// it, and its id follows from it. Empty: the client draws a new one.
  std::string key;
  /// client_id_of(key), set by the client actor itself: whatever a caller
  /// writes here is replaced.
  uint64_t id = 0;
  std::string name;
  caf::actor load_balancer;
  /// Resend what is unacknowledged after this long, at least: the wait
  /// follows how long acknowledgements take (actors/common/rtt.hpp), and
  /// doubles per resend that brought nothing, up to retry_max_ms.
  uint32_t retry_ms = 1000;
  uint32_t retry_max_ms = 600000;
  /// After this many resends in a row that brought nothing, try another
  /// server: ours may be alive but cut off from the others.
  uint32_t reroute_after = 3;
  uint32_t connect_timeout_ms = 2000;
  uint32_t reconnect_ms = 200;
  uint32_t max_text_bytes = 4096; ///< Until the balancer says otherwise.
  uint32_t pending_max = 100000;  ///< Unacknowledged messages, at most.
  /// "name in use" is final only after this long: the client that held the
  /// name may be one that just left (the balancer sees it go within a
  /// connection timeout).
  uint32_t name_wait_ms = 3000;
  /// The history starts after this index (caf-chat --history FROM).
  uint64_t resume_after = 0;
  std::shared_ptr<client_listener> listener;
  /// Multi-process clusters: connect to the assigned server's node directly
  /// (its host:port from the assignment) through this middleman before
  /// opening the session, so traffic does not detour via the balancer's node.
  caf::io::middleman_actor middleman;
  /// TEST ONLY: keep a refused message pending instead of withdrawing it
  /// (the rule this replaced); the simulation must notice the stall.
  bool break_withdraw_rule = false;
};

struct client_state {
  static inline const char* name = "client";
  enum class phase { idle, connecting, connected } state = phase::idle;
  caf::actor session;
  server_id server = 0;
  uint64_t next_seq = 1;
  uint64_t acked = 0;
  uint64_t last_index = 0;
  std::deque<command> pending; ///< Sent, not yet acknowledged, by seq.
  std::vector<command> outbox; ///< Said, going out at the next flush.
  bool flush_queued = false;
  uint64_t sent_at_last_retry = 0; ///< Highest seq given out by then.
  /// When each message not resent yet went out (seq, ms on the actor
  /// clock), by seq: its acknowledgement is a sample of how long they take.
  /// A deque, not a map: one push and one pop per message, no allocation
  /// per node (the map cost 7 % of caf-bench's throughput).
  std::deque<std::pair<uint64_t, int64_t>> first_sent;
  rtt_estimator ack_time;
  /// When the last resend went out, until its first acknowledgement has
  /// been taken as a sample (-1: none pending). Without it, a backlog that
  /// is only ever resent (every first send lost or refused while the network
  /// was slow) would leave the resend timer at its slow-network value for
  /// good after the network heals: Karn's rule gives no fresh sample.
  int64_t resent_at = -1;
  uint32_t fruitless = 0; ///< Resends in a row that brought nothing.
  uint64_t acked_at_resend = 0;
  uint32_t max_text_bytes = 0;
  bool told_waiting = false;
  uint64_t attempt = 0; ///< Tells stale connect replies apart.
  /// Flow control (messages/client.hpp, `received`): the session's send
  /// queue bound, and entry bytes taken in since the last `received`.
  uint64_t send_queue_max_bytes = 0;
  uint64_t unconfirmed_bytes = 0;
  /// Commands per submit, at most (the server's [limits]).
  uint32_t max_commands = 256;
  /// The server's rate, kept here too: an honest client holds back what
  /// the session would refuse (half the burst, for its resends).
  token_bucket pace;
  uint64_t sent_upto = 0; ///< Every seq up to here went out at least once.
  std::string close_reason; ///< Why the session said it closes (seq 0).
  int64_t name_refused_since = -1; ///< First "name in use" in a row (ms).
};

caf::behavior client_actor(caf::stateful_actor<client_state>* self,
                           client_config cfg);

} // namespace cafchat
