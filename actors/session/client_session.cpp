#include "actors/session/client_session.hpp"

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/client_key.hpp"
#include "actors/common/safe_text.hpp"
#include "messages/atoms.hpp"
#include "messages/client.hpp"
#include "messages/errors.hpp"

namespace cafchat {

namespace {

/// Calls `f` with each code point of `s`; false if `s` is not valid UTF-8
/// (overlong forms, surrogates and code points above U+10FFFF included).
template <class F>
bool each_code_point(const std::string& s, F f) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    auto len = utf8_decode(s, i, cp);
    if (len == 0)
      return false;
    f(cp);
    i += len;
  }
  return true;
}

} // namespace

bool valid_utf8(const std::string& s) {
  return each_code_point(s, [](uint32_t) {});
}

std::string validate_name(const std::string& name) {
  if (name.empty())
    return "empty name";
  if (name.size() > max_name_bytes)
    return "name of " + std::to_string(name.size())
           + " bytes is over the limit of " + std::to_string(max_name_bytes)
           + " bytes";
  bool control = false;
  if (!each_code_point(name, [&](uint32_t cp) { control |= is_control(cp); }))
    return "name is not valid UTF-8";
  if (control)
    return "name holds a control or text-direction character";
  return {};
}

std::optional<claim_refusal> check_client_claim(const std::string& name,
                                                const std::string& key,
                                                const caf::actor& client_actor,
                                                const char* message) {
  if (auto why = validate_name(name); !why.empty())
    return claim_refusal{chat_errc::invalid_name, why, "name"};
  if (auto why = validate_client_key(key); !why.empty())
    return claim_refusal{chat_errc::invalid_key, why, "key"};
  if (!client_actor)
    return claim_refusal{chat_errc::invalid_key,
                         std::string{message} + " names no client actor",
                         "no_actor"};
  return std::nullopt;
}

std::string validate_text(const std::string& text, uint32_t max_text_bytes) {
  if (text.empty())
    return "empty message";
  if (text.size() > max_text_bytes)
    return "message of " + std::to_string(text.size())
           + " bytes is over the limit of " + std::to_string(max_text_bytes)
           + " bytes";
  if (!valid_utf8(text))
    return "message is not valid UTF-8";
  return {};
}

namespace {

using self_ptr = caf::stateful_actor<session_state>*;

/// Tracks delivery progress; returns false if `entries` holds nothing the
/// client has not seen. A client that rerouted from a server further ahead
/// resumes past this server's history, so a batch may start below its
/// position: those entries are skipped (the client ignores them too).
bool track(self_ptr self, const session_config& cfg,
           const std::vector<chat_entry>& entries,
           const std::vector<std::pair<uint64_t, uint64_t>>& withdrawn = {}) {
  auto& st = self->state;
  bool settled = false;
  for (auto& [client, seq] : withdrawn)
    if (client == cfg.client) {
      st.acked = std::max(st.acked, seq);
      settled = true;
    }
  auto i = entries.begin();
  while (i != entries.end() && i->index < st.next_index)
    ++i;
  if (i == entries.end() || i->index != st.next_index)
    return settled;
  // The client reads its acknowledgements off the entries themselves; the
  // session only keeps count, to answer resends without ordering them again.
  for (; i != entries.end(); ++i)
    if (i->client == cfg.client)
      st.acked = std::max(st.acked, i->seq);
  st.next_index = entries.back().index + 1;
  return true;
}

/// Counts a message to the client into the send queue.
void count_sent(self_ptr self, const std::vector<chat_entry>& entries) {
  auto& st = self->state;
  uint64_t bytes = entries.empty() ? 64 : 0;
  for (auto& e : entries)
    bytes += entry_bytes(e);
  st.sent_bytes += bytes;
  st.unconfirmed.emplace_back(st.next_index - 1, st.sent_bytes);
}

/// History is read on only while the client keeps up: at most a quarter of
/// the send queue ahead of what it confirmed.
bool history_may_continue(self_ptr self, const session_config& cfg) {
  return cfg.send_queue_max_bytes == 0
         || self->state.queued() <= cfg.send_queue_max_bytes / 4;
}

void read_history(self_ptr self, const session_config& cfg) {
  self->request(cfg.learner, caf::infinite,
                history_request{self->state.next_index, cfg.history_chunk,
                                cfg.client})
    .then(
      [=](history_reply& reply) {
        // Each chunk says how much history the server holds, and the last
        // one goes out even when it brings nothing new: the client waits for
        // the history as it was when it joined (caf-chat at end of input).
        bool fresh = !reply.entries.empty() && track(self, cfg, reply.entries);
        if (fresh || reply.live) {
          if (!fresh)
            reply.entries.clear();
          count_sent(self, reply.entries);
          self->send(cfg.client_actor,
                     delivered{std::move(reply.entries), {}, true,
                               reply.history_size});
        }
        if (reply.live) {
          self->state.live = true;
          // What the state machine applied of ours, withdrawals included
          // (they leave no entry): settle it with the client.
          auto& st = self->state;
          if (reply.client_seq > st.acked) {
            st.acked = reply.client_seq;
            self->send(cfg.client_actor,
                       acknowledged{cfg.client, st.acked});
          }
        } else if (history_may_continue(self, cfg)) {
          read_history(self, cfg);
        } else {
          self->state.history_paused = true; // until the client catches up
        }
      },
      [=](caf::error&) { self->quit(caf::exit_reason::user_shutdown); });
}

} // namespace

caf::behavior client_session(caf::stateful_actor<session_state>* self,
                             session_config cfg) {
  drop_unexpected(self);
  if (!cfg.log)
    cfg.log = event_log::null();
  self->state.next_index = cfg.resume_after + 1;
  self->state.bucket = token_bucket{cfg.rate_per_s, cfg.rate_burst};
  self->monitor(cfg.client_actor);
  if (cfg.front)
    self->monitor(cfg.front);
  self->set_down_handler([=](const caf::down_msg& dm) {
    if (dm.source == cfg.client_actor.address()
        || (cfg.front && dm.source == cfg.front.address())) {
      self->send(cfg.learner, unsub_atom::value);
      self->quit();
    }
  });
  read_history(self, cfg);
  return {
    [=](submit& msg) {
      // Keep what may be ordered; refuse what may not; answer resends of
      // messages already in the history at once.
      auto& st = self->state;
      auto& cmds = msg.commands;
      if (cfg.max_commands > 0 && cmds.size() > cfg.max_commands) {
        // Honest clients split what they send (welcome says how far):
        // refuse the excess with one answer, not one per command.
        auto n = cmds.size();
        auto first = cmds[cfg.max_commands].seq;
        cmds.resize(cfg.max_commands);
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), cfg.server, "submit_over_limit")
            .field("client", cfg.client)
            .field("n", n);
        self->send(cfg.client_actor,
                   rejected{cfg.client, first,
                            std::to_string(n) + " commands in one submit, over "
                              "the limit of "
                              + std::to_string(cfg.max_commands)});
      }
      auto now = now_ms(self);
      auto keep = cmds.begin();
      bool resent = false;
      uint64_t refused_rate = 0;
      for (auto& c : cmds) {
        // A withdrawal (no text) needs no check: it only uses up the seq of
        // a message a server refused.
        auto why = c.client != cfg.client ? "command names another client"
                   : c.is_withdrawal()    ? std::string{}
                                          : validate_text(c.text,
                                                          cfg.max_text_bytes);
        if (why.empty() && c.seq > st.acked && c.seq > st.admitted) {
          // New: it takes a token (a resend of one admitted before does
          // not). Withdrawals too, or they would be a way around the rate.
          if (st.bucket.take(now))
            st.admitted = c.seq;
          else {
            why = "over the rate limit of " + std::to_string(cfg.rate_per_s)
                  + " messages/s (burst " + std::to_string(cfg.rate_burst)
                  + ")";
            ++refused_rate;
          }
        }
        if (!why.empty())
          self->send(cfg.client_actor, rejected{cfg.client, c.seq, why});
        else if (c.seq <= st.acked)
          resent = true;
        else {
          // The session, not the client, says who speaks.
          if (!c.is_withdrawal())
            c.from = cfg.name;
          if (&*keep != &c)
            *keep = std::move(c);
          ++keep;
        }
      }
      cmds.erase(keep, cmds.end());
      if (refused_rate > 0 && cfg.log->enabled())
        cfg.log->event(now, cfg.server, "rate_limited")
          .field("client", cfg.client)
          .field("n", refused_rate);
      if (resent)
        self->send(cfg.client_actor, acknowledged{cfg.client, st.acked});
      if (!cmds.empty())
        self->send(cfg.proposer, std::move(msg));
    },
    [=](const delivered& msg) {
      // Live entries from the learner: pass the same message on, no copy.
      if (!track(self, cfg, msg.entries, msg.withdrawn))
        return;
      count_sent(self, msg.entries);
      self->send(cfg.client_actor,
                 self->current_mailbox_element()->move_content_to_message());
      auto& st = self->state;
      if (cfg.send_queue_max_bytes > 0
          && st.queued() > cfg.send_queue_max_bytes) {
        // The client does not read: its backlog would pile up in this
        // server's memory. Close; it reconnects and resumes from the last
        // index it took in.
        auto why = "send queue of " + std::to_string(st.queued())
                   + " bytes over the limit of "
                   + std::to_string(cfg.send_queue_max_bytes)
                   + " ([limits] send_queue_max_bytes): the client does not "
                     "read";
        if (cfg.log->enabled())
          cfg.log->event(now_ms(self), cfg.server, "slow_reader_closed")
            .field("client", cfg.client)
            .field("bytes", st.queued());
        // The reason first (rejected with seq 0), then the session ends,
        // normally: an error would take its server down with it (linked).
        self->send(cfg.client_actor, rejected{cfg.client, 0, why});
        self->send(cfg.learner, unsub_atom::value);
        self->quit();
      }
    },
    [=](unsub_atom) {
      // The server closes us: our client opened a new session here.
      self->send(cfg.learner, unsub_atom::value);
      self->quit();
    },
    [=](const received& msg) {
      auto& st = self->state;
      while (!st.unconfirmed.empty()
             && st.unconfirmed.front().first <= msg.index) {
        st.confirmed_bytes = st.unconfirmed.front().second;
        st.unconfirmed.pop_front();
      }
      if (st.history_paused && history_may_continue(self, cfg)) {
        st.history_paused = false;
        read_history(self, cfg);
      }
    },
  };
}

} // namespace cafchat
