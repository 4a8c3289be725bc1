#include "actors/client/client_actor.hpp"

#include <deque>

#include "caf/event_based_actor.hpp"

#include "actors/common/actor_util.hpp"
#include "actors/common/client_key.hpp"
#include "actors/common/peer_auth.hpp"
#include "actors/session/client_session.hpp"
#include "messages/atoms.hpp"
#include "messages/errors.hpp"

namespace cafchat {

namespace {

using self_ptr = caf::stateful_actor<client_state>*;

void notify(const client_config& cfg, client_notice n) {
  if (cfg.listener)
    cfg.listener->on_notice(n);
}

void connect(self_ptr self, const client_config& cfg, server_id failed);

void schedule_reconnect(self_ptr self, const client_config& cfg,
                        server_id failed) {
  auto attempt = self->state.attempt;
  self->delayed_send(self, ms(cfg.reconnect_ms), retry_atom::value, attempt,
                     failed);
}

/// Sends the outbox: as much as the pace allows, in submits of at most
/// max_commands; the rest waits for the next flush.
void flush(self_ptr self) {
  auto& st = self->state;
  if (st.outbox.empty() || st.state != client_state::phase::connected)
    return;
  auto now = now_ms(self);
  size_t n = 0;
  while (n < st.outbox.size() && st.pace.take(now))
    ++n;
  submit batch;
  for (size_t i = 0; i < n; ++i) {
    st.sent_upto = std::max(st.sent_upto, st.outbox[i].seq);
    batch.commands.push_back(std::move(st.outbox[i]));
    if (batch.commands.size() >= st.max_commands) {
      self->send(st.session, std::move(batch));
      batch = submit{};
    }
  }
  if (!batch.commands.empty())
    self->send(st.session, std::move(batch));
  st.outbox.erase(st.outbox.begin(),
                  st.outbox.begin() + static_cast<std::ptrdiff_t>(n));
  if (!st.outbox.empty() && !st.flush_queued) {
    st.flush_queued = true;
    auto wait = std::max<uint32_t>(1, 1000 / std::max(1u, st.pace.rate()));
    self->delayed_send(self, ms(wait), flush_atom::value);
  }
}

void resend_pending(self_ptr self) {
  auto& st = self->state;
  st.first_sent.clear(); // resent: their acknowledgements say nothing clear
  st.resent_at = now_ms(self);
  // What went out before goes again; what never did waits in the outbox for
  // the pace.
  st.outbox.clear();
  submit batch;
  for (auto& c : st.pending) {
    if (c.seq > st.sent_upto) {
      st.outbox.push_back(c);
      continue;
    }
    batch.commands.push_back(c);
    if (batch.commands.size() >= st.max_commands) {
      self->send(st.session, std::move(batch));
      batch = submit{};
    }
  }
  if (!batch.commands.empty())
    self->send(st.session, std::move(batch));
  flush(self);
}

void on_welcome(self_ptr self, const client_config& cfg, welcome& w) {
  auto& st = self->state;
  st.state = client_state::phase::connected;
  st.session = w.session;
  st.server = w.server;
  st.max_text_bytes = w.max_text_bytes;
  st.send_queue_max_bytes = w.send_queue_max_bytes;
  st.unconfirmed_bytes = 0;
  if (w.max_commands > 0)
    st.max_commands = w.max_commands;
  st.pace = token_bucket{w.rate_per_s, std::max(1u, w.rate_burst / 2)};
  st.told_waiting = false;
  st.name_refused_since = -1;
  self->monitor(st.session);
  notify(cfg, {notice_kind::connected, w.server, 0, {}});
  resend_pending(self);
}

/// Why the process at `srv`'s address (node `nid`) is not server `srv.id`,
/// or "" (always "" without TLS: nobody is authenticated).
std::string wrong_server(self_ptr self, const server_info& srv,
                         const caf::node_id& nid) {
  if (!peers_authenticated())
    return {};
  auto why = assigned_server_problem(
    principal_of(nid, self->home_system().node()), srv.id,
    srv.front && srv.front.node() == nid);
  if (why.empty())
    return why;
  return "refused server " + std::to_string(srv.id) + " at " + srv.host + ":"
         + std::to_string(srv.port) + ": " + why;
}

void connect(self_ptr self, const client_config& cfg, server_id failed) {
  auto& st = self->state;
  st.state = client_state::phase::connecting;
  st.session = caf::actor{};
  auto attempt = ++st.attempt;
  auto timeout = ms(cfg.connect_timeout_ms);
  self
    ->request(cfg.load_balancer, timeout,
              assign_request{cfg.key, cfg.name,
                             caf::actor_cast<caf::actor>(self), failed})
    .then(
      [=](assignment& a) {
        if (self->state.attempt != attempt)
          return;
        // The cluster's limit, not ours, decides what a server accepts.
        if (a.max_text_bytes > 0)
          self->state.max_text_bytes = a.max_text_bytes;
        auto open_session = [=] {
          self
            ->request(a.server.front, timeout,
                      hello{cfg.key, cfg.name, self->state.last_index,
                            caf::actor_cast<caf::actor>(self)})
            .then(
              [=](welcome& w) {
                if (self->state.attempt == attempt)
                  on_welcome(self, cfg, w);
              },
              [=](caf::error& e) {
                if (self->state.attempt != attempt)
                  return;
                // A server that refuses us says why (its session limits).
                if (e.category() == caf::atom("cafchat")
                    && !self->state.told_waiting) {
                  self->state.told_waiting = true;
                  notify(cfg, {notice_kind::waiting, a.server.id, 0,
                               describe(e)});
                }
                schedule_reconnect(self, cfg, a.server.id);
              });
        };
        if (!cfg.middleman || a.server.port == 0) {
          open_session();
          return;
        }
        self
          ->request(cfg.middleman, timeout, caf::connect_atom::value,
                    a.server.host, a.server.port)
          .then(
            [=](const caf::node_id& nid, const caf::strong_actor_ptr&,
                const std::set<std::string>&) {
              if (self->state.attempt != attempt)
                return;
              // With TLS, the process at the assigned address must hold
              // the certificate of the server the load balancer named, and
              // the front we were given must live there.
              auto why = wrong_server(self, a.server, nid);
              if (!why.empty()) {
                if (!self->state.told_waiting) {
                  self->state.told_waiting = true;
                  notify(cfg, {notice_kind::waiting, a.server.id, 0, why});
                }
                schedule_reconnect(self, cfg, a.server.id);
                return;
              }
              open_session();
            },
            [=](caf::error&) {
              if (self->state.attempt == attempt)
                schedule_reconnect(self, cfg, a.server.id);
            });
      },
      [=](caf::error& e) {
        if (self->state.attempt != attempt)
          return;
        auto is = [&](chat_errc c) {
          return e.category() == caf::atom("cafchat")
                 && e.code() == static_cast<uint8_t>(c);
        };
        if (is(chat_errc::name_in_use)) {
          auto& since = self->state.name_refused_since;
          auto now = now_ms(self);
          if (since < 0)
            since = now;
          if (now - since < static_cast<int64_t>(cfg.name_wait_ms)) {
            schedule_reconnect(self, cfg, failed);
            return;
          }
        }
        if (is(chat_errc::name_in_use) || is(chat_errc::invalid_name)
            || is(chat_errc::invalid_key)) {
          // Asking again changes nothing: say why and stop.
          notify(cfg, {notice_kind::refused, 0, 0, describe(e)});
          self->quit();
          return;
        }
        if (!self->state.told_waiting) {
          self->state.told_waiting = true;
          notify(cfg, {notice_kind::waiting, 0, 0, describe(e)});
        }
        schedule_reconnect(self, cfg, failed);
      });
}

/// Every own seq up to `seq` is settled: in the history, or withdrawn.
void settle(self_ptr self, const client_config& cfg, uint64_t seq) {
  auto& st = self->state;
  if (seq <= st.acked)
    return;
  st.acked = seq;
  st.fruitless = 0;
  auto now = now_ms(self);
  // The first progress after a resend is a sample measured from the resend
  // (as TCP's timestamps attribute an ACK to the latest transmission). It
  // may be short when an earlier copy was what got through: that costs at
  // most an early resend, which the state machine deduplicates by seq; the
  // estimator's 1/8 gain keeps one such sample from collapsing the timeout.
  if (st.resent_at >= 0) {
    st.ack_time.sample(static_cast<uint64_t>(std::max<int64_t>(0, now - st.resent_at)));
    st.resent_at = -1;
  }
  while (!st.first_sent.empty() && st.first_sent.front().first <= seq) {
    auto sent = st.first_sent.front().second;
    st.ack_time.sample(static_cast<uint64_t>(std::max<int64_t>(0, now - sent)));
    st.first_sent.pop_front();
  }
  while (!st.pending.empty() && st.pending.front().seq <= seq) {
    auto& c = st.pending.front();
    if (c.is_withdrawal())
      notify(cfg, {notice_kind::withdrawn, st.server, c.seq,
                   "message " + std::to_string(c.seq)
                     + " will not be delivered"});
    st.pending.pop_front();
  }
  if (cfg.listener)
    cfg.listener->on_acknowledged(seq);
}

void on_entries(self_ptr self, const client_config& cfg,
                const std::vector<chat_entry>& entries) {
  auto& st = self->state;
  std::vector<chat_entry> fresh;
  uint64_t own = st.acked;
  for (auto& e : entries) {
    if (e.index <= st.last_index)
      continue; // seen before a reroute
    if (e.index != st.last_index + 1)
      notify(cfg, {notice_kind::gap, st.server, e.index,
                   "history jumped from " + std::to_string(st.last_index)
                     + " to " + std::to_string(e.index)});
    st.last_index = e.index;
    if (e.client == cfg.id) {
      own = std::max(own, e.seq);
      // A message we withdrew may have been ordered before the refusal
      // (through another server): then it is delivered, not withdrawn.
      for (auto& c : st.pending)
        if (c.seq == e.seq && c.is_withdrawal())
          c.text = e.text;
    }
    fresh.push_back(e);
  }
  if (!fresh.empty() && cfg.listener)
    cfg.listener->on_entries(fresh);
  settle(self, cfg, own);
}

} // namespace

caf::behavior client_actor(caf::stateful_actor<client_state>* self,
                           client_config cfg) {
  drop_unexpected(self);
  if (cfg.key.empty())
    cfg.key = new_client_key();
  cfg.id = client_id_of(cfg.key);
  self->state.last_index = cfg.resume_after;
  self->state.max_text_bytes = cfg.max_text_bytes;
  self->state.ack_time = rtt_estimator{cfg.retry_ms,
                                       std::max(cfg.retry_ms, cfg.retry_max_ms)};
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (st.session && dm.source == st.session.address()) {
      auto lost = st.server;
      // A session that closed on us says why (a send queue over its limit).
      std::string why;
      if (!st.close_reason.empty())
        why = st.close_reason + "; ";
      st.close_reason.clear();
      notify(cfg, {notice_kind::server_lost, lost, 0,
                   why + "rerouting; " + std::to_string(st.pending.size())
                     + " message(s) to resend"});
      connect(self, cfg, lost);
    }
  });
  connect(self, cfg, 0);
  self->delayed_send(self, ms(self->state.ack_time.timeout()), retry_atom::value);
  return {
    [=](say_atom, const std::string& text) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto why = validate_text(text, st.max_text_bytes);
      if (!why.empty())
        return make_chat_error(chat_errc::oversize, why);
      if (st.pending.size() >= cfg.pending_max)
        return make_chat_error(chat_errc::not_ready,
                               "too many unacknowledged messages");
      command c{cfg.id, st.next_seq++, cfg.name, text};
      if (cfg.listener)
        cfg.listener->on_said(c.seq, text);
      st.first_sent.emplace_back(c.seq, now_ms(self));
      st.pending.push_back(c);
      if (st.state == client_state::phase::connected) {
        // Everything said before the flush (queued behind the mailbox) goes
        // out in one submit.
        st.outbox.push_back(std::move(c));
        if (!st.flush_queued) {
          st.flush_queued = true;
          self->send(self, flush_atom::value);
        }
      }
      return st.pending.back().seq;
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      flush(self);
    },
    [=](const delivered& msg) {
      on_entries(self, cfg, msg.entries);
      // Flow control: tell the session what we took in, often enough that
      // it never waits for us (a chunk of history each, or an eighth of its
      // send queue of live entries).
      auto& st = self->state;
      if (st.send_queue_max_bytes > 0 && st.session) {
        for (auto& e : msg.entries)
          st.unconfirmed_bytes += entry_bytes(e);
        if (msg.entries.empty())
          st.unconfirmed_bytes += 64;
        if (msg.from_history
            || st.unconfirmed_bytes >= st.send_queue_max_bytes / 8) {
          st.unconfirmed_bytes = 0;
          self->send(st.session, received{st.last_index});
        }
      }
      for (auto& [client, seq] : msg.withdrawn)
        if (client == cfg.id)
          settle(self, cfg, seq);
      if (msg.from_history && cfg.listener)
        cfg.listener->on_history(self->state.last_index, msg.history_size);
    },
    [=](const acknowledged& msg) {
      // Also implied by the entries themselves; this only trims sooner.
      if (msg.client == cfg.id)
        settle(self, cfg, msg.seq);
    },
    [=](const rejected& msg) {
      // The server will never order it. Withdraw its seq (the withdrawal is
      // ordered like a message and resent until settled), or every later
      // message of ours would wait behind it forever.
      auto& st = self->state;
      if (msg.seq == 0) {
        // Not about a message: the session is closing, and says why.
        st.close_reason = msg.reason;
        return;
      }
      if (cfg.break_withdraw_rule) {
        notify(cfg, {notice_kind::rejected, st.server, msg.seq, msg.reason});
        return;
      }
      for (auto& c : st.pending)
        if (c.seq == msg.seq && !c.is_withdrawal()) {
          c = command::withdrawal(cfg.id, c.seq);
          notify(cfg, {notice_kind::rejected, st.server, msg.seq, msg.reason});
          if (st.session)
            self->send(st.session, submit{{c}});
          break;
        }
    },
    [=](pending_atom) {
      // What the user still waits for: withdrawals are not messages.
      auto& st = self->state;
      std::vector<command> xs;
      for (auto& c : st.pending)
        if (!c.is_withdrawal())
          xs.push_back(c);
      return xs;
    },
    [=](retry_atom, uint64_t attempt, server_id failed) {
      // Reconnect timer of one connection attempt.
      if (self->state.attempt == attempt
          && self->state.state == client_state::phase::connecting)
        connect(self, cfg, failed);
    },
    [=](retry_atom) {
      // Resend timer: a message still unacknowledged a whole period after
      // the last tick was lost somewhere (a forward, a full queue, a leader
      // change): send everything pending again, in order.
      auto& st = self->state;
      if (st.state == client_state::phase::connected && !st.pending.empty()
          && st.pending.front().seq <= st.sent_at_last_retry) {
        if (st.acked == st.acked_at_resend && st.fruitless < 5)
          ++st.fruitless;
        st.acked_at_resend = st.acked;
        if (st.fruitless >= cfg.reroute_after) {
          // Resent again and again for nothing: our server may be up but
          // cut off (an omission fault, a partition). Try another; what is
          // pending goes out again there, and the history resumes.
          auto resends = st.fruitless;
          st.fruitless = 0;
          auto from = st.server;
          notify(cfg, {notice_kind::reroute, from, 0,
                       std::to_string(st.pending.size())
                         + " message(s) unacknowledged after "
                         + std::to_string(resends) + " resends"});
          connect(self, cfg, from);
        } else {
          resend_pending(self);
        }
      }
      st.sent_at_last_retry = st.next_seq - 1;
      // As long as acknowledgements take (mean + 4 deviations), doubled per
      // resend in a row that brought nothing.
      auto wait = std::min<uint64_t>(st.ack_time.timeout() << st.fruitless,
                                     st.ack_time.cap());
      self->delayed_send(self, ms(wait), retry_atom::value);
    },
    [=](status_atom) {
      // server is 0 while not connected.
      auto& st = self->state;
      client_placement p{cfg.id, cfg.name,
                         st.state == client_state::phase::connected ? st.server
                                                                    : 0};
      return p;
    },
  };
}

} // namespace cafchat
