#pragma once

// The node guard: what CAF 0.17 does not check on a connection between
// processes, checked in our own programs (docs/security.md).
//
// It replaces functions of the shared libraries for this executable
// (symbol interposition: the libraries call both through their PLT, so the
// dynamic linker resolves them to the executable's definitions first):
//
// * SSL_CTX_set_verify (libssl, called by libcaf_openssl for every TLS
//   session): installs a verify callback that accepts a peer certificate
//   only if it names a cafchat principal (SAN URI cafchat:node:N,
//   cafchat:node:lb, cafchat:client:NAME, cafchat:operator:NAME), and
//   records that principal for the connection's socket.
// * caf::io::basp::instance::handle(ctx, new_data_msg&, header&, bool)
//   (libcaf_io, called by the BASP broker for every header and payload it
//   reads): closes a connection whose header announces a payload above
//   max_frame_bytes, before the broker sizes its read buffer from it (CAF
//   would reserve up to 4 GiB for one 32-byte header); binds the CAF node
//   id a peer declares in its handshake to the principal of its
//   certificate (a node id is never bound to two principals); and refuses
//   from clients what only nodes may do (routed messages, messages on
//   behalf of another node, anonymous messages, named receivers).
//
// * SSL_read, SSL_write, SSL_connect, SSL_accept (libssl, called by
//   libcaf_openssl): clear OpenSSL's per-thread error queue first, as
//   OpenSSL requires. CAF does not, and a stale error from one connection
//   made SSL_get_error report the next harmless "would block" on any other
//   connection as fatal: every node dropped all its connections whenever a
//   client came or went.
//
// * caf::binary_deserializer::begin_sequence and caf::message::load
//   (libcaf_core, every decode of a BASP payload): a sequence may not claim
//   more elements than bytes remain (CAF resizes a std::vector<char>,
//   "@charbuf", to its 5-byte length prefix before it checks that the
//   bytes are there: 21 bytes made a node allocate and zero 4 GiB), and
//   messages nest at most max_message_depth deep (CAF decodes nesting
//   recursively: 30000 levels, 450 KB, overflow the stack). These hold in
//   every process that links the guard, from the first decode on, for
//   every connection, authenticated or not.
//
// * caf::io::network::stream::flush (libcaf_io and libcaf_openssl, after
//   every message a connection is sent): a connection whose peer does not
//   read keeps growing CAF's write buffer, whatever the sessions above
//   bound (a client can confirm what it never read). More than
//   max_backlog_bytes queued behind the write in progress shuts the
//   socket down, logs a "refused" event naming the peer, and frees the
//   queue; CAF then ends the connection as for any lost peer.
//
// install_net_guard checks at start-up that these replacements are the ones
// the dynamic linker uses, and refuses to run otherwise.

#include <cstdint>
#include <memory>
#include <string>

namespace cafchat {

class event_log;

struct net_guard_settings {
  uint32_t max_frame_bytes = 16u << 20; ///< BASP payload, at most.
  bool tls = false;                     ///< Peers must be authenticated.
  /// Bytes queued for one connection behind the write in progress, at most.
  uint64_t max_backlog_bytes = 64u << 20;
};

/// Turns the guard on for this process; returns an empty string, or why it
/// cannot work (the interposition is not in effect).
std::string install_net_guard(const net_guard_settings& s);

/// Headers and payloads the guard has seen, and connections it closed
/// (for tests and /status-like diagnostics).
uint64_t net_guard_frames_seen();
uint64_t net_guard_connections_refused();
/// Connections closed because their peer did not read (max_backlog_bytes).
uint64_t net_guard_backlogs_closed();

/// Messages nest at most this deep in one decode (cafchat's deepest is 2: a
/// `routed` carrying a message whose error reply may carry a context).
constexpr int max_message_depth = 8;

/// Decodes the decode guard stopped: sequences longer than their input,
/// messages nested too deep. Also checks that the guard is in effect in
/// this executable (an empty string) or says why not.
uint64_t decode_guard_refusals();
std::string decode_guard_check();

} // namespace cafchat
