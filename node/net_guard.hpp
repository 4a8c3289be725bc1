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
};

/// Turns the guard on for this process; returns an empty string, or why it
/// cannot work (the interposition is not in effect).
std::string install_net_guard(const net_guard_settings& s);

/// Headers and payloads the guard has seen, and connections it closed
/// (for tests and /status-like diagnostics).
uint64_t net_guard_frames_seen();
uint64_t net_guard_connections_refused();

} // namespace cafchat
