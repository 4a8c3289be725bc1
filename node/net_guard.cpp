#include "node/net_guard.hpp"

#include <dlfcn.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "caf/atom.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/deserializer.hpp"
#include "caf/message.hpp"
#include "caf/sec.hpp"
#include "caf/io/basp/connection_state.hpp"
#include "caf/io/basp/header.hpp"
#include "caf/io/basp/instance.hpp"
#include "caf/io/basp/message_type.hpp"
#include "caf/io/network/stream.hpp"
#include "caf/io/system_messages.hpp"
#include "caf/node_id.hpp"

#include "actors/common/authority.hpp"
#include "actors/common/peer_auth.hpp"

namespace cafchat {

namespace {

std::atomic<bool> active{false};
std::atomic<uint32_t> max_frame{16u << 20};
std::atomic<uint64_t> max_backlog{64u << 20};
std::atomic<uint64_t> backlog_closed{0};
std::atomic<bool> tls_on{false};
std::atomic<uint64_t> frames_seen{0};
std::atomic<uint64_t> refused{0};
std::atomic<uint64_t> decode_refused{0};
thread_local int message_depth = 0;

constexpr const char* begin_sequence_symbol
  = "_ZN3caf19binary_deserializer14begin_sequenceERm";
constexpr const char* message_load_symbol
  = "_ZN3caf7message4loadERNS_12deserializerE";
constexpr const char* stream_flush_symbol
  = "_ZN3caf2io7network6stream5flushERKNS_13intrusive_ptrINS1_"
    "14stream_managerEEE";

using begin_sequence_fn = caf::error (*)(caf::binary_deserializer*, size_t&);
using message_load_fn = caf::error (*)(caf::message*, caf::deserializer&);
using stream_flush_fn = void (*)(caf::io::network::stream*,
                                 const caf::io::network::stream::manager_ptr&);

template <class F>
F next_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

/// What the guard knows about one connection, by its socket (CAF's
/// connection handle is the socket).
struct conn {
  principal who;             ///< From its certificate (TLS only).
  std::optional<caf::node_id> node; ///< Declared in its BASP handshake.
};

std::mutex conns_mtx;
std::map<int64_t, conn> conns;

void record_certificate(int fd, const principal& who) {
  std::lock_guard<std::mutex> guard{conns_mtx};
  conns[fd] = conn{who, std::nullopt}; // a new connection on this socket
}

std::optional<conn> connection(int64_t fd) {
  std::lock_guard<std::mutex> guard{conns_mtx};
  auto i = conns.find(fd);
  if (i == conns.end())
    return std::nullopt;
  return i->second;
}

void record_node(int64_t fd, const caf::node_id& nid) {
  std::lock_guard<std::mutex> guard{conns_mtx};
  conns[fd].node = nid;
}

std::optional<principal> principal_of_cert(X509* cert) {
  auto names = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr)
    return std::nullopt;
  std::optional<principal> result;
  int n = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < n && !result; ++i) {
    auto gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI)
      continue;
    auto s = gn->d.uniformResourceIdentifier;
    std::string_view uri{reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s))};
    result = principal_from_uri(uri);
  }
  GENERAL_NAMES_free(names);
  return result;
}

int verify_peer(int ok, X509_STORE_CTX* store) {
  auto depth = X509_STORE_CTX_get_error_depth(store);
  if (!ok) {
    log_refusal(principal::unknown(), "tls_certificate",
                std::string{"certificate at depth "} + std::to_string(depth)
                  + ": "
                  + X509_verify_cert_error_string(
                    X509_STORE_CTX_get_error(store)));
    ++refused;
    return 0;
  }
  if (depth != 0)
    return 1;
  auto who = principal_of_cert(X509_STORE_CTX_get_current_cert(store));
  if (!who) {
    log_refusal(principal::unknown(), "tls_certificate",
                "the certificate names no cafchat principal (SAN URI "
                "cafchat:node:N, cafchat:client:NAME, cafchat:operator:NAME)");
    ++refused;
    return 0;
  }
  auto ssl = static_cast<SSL*>(
    X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr || SSL_get_fd(ssl) < 0)
    return 0;
  record_certificate(SSL_get_fd(ssl), *who);
  return 1;
}

using set_verify_fn = void (*)(SSL_CTX*, int, SSL_verify_cb);

set_verify_fn real_set_verify() {
  static auto fn = reinterpret_cast<set_verify_fn>(
    dlsym(RTLD_NEXT, "SSL_CTX_set_verify"));
  return fn;
}

namespace basp = caf::io::basp;

constexpr const char* handle_symbol
  = "_ZN3caf2io4basp8instance6handleEPNS_14execution_unitERNS0_12new_"
    "data_msgERNS1_6headerEb";

using handle_fn = basp::connection_state (*)(basp::instance*,
                                             caf::execution_unit*,
                                             caf::io::new_data_msg&,
                                             basp::header&, bool);

handle_fn real_handle() {
  static auto fn = reinterpret_cast<handle_fn>(dlsym(RTLD_NEXT, handle_symbol));
  return fn;
}

basp::connection_state refuse(const principal& who, std::string_view what,
                              const std::string& detail) {
  ++refused;
  log_refusal(who, what, detail);
  return basp::malformed_basp_message;
}

bool is_chatter(const principal& p) {
  return p.k == principal::kind::client || p.k == principal::kind::op;
}

/// A peer that does not read what this process sends it: its socket is shut
/// down (CAF then sees the connection end, on both sides, and cleans up as
/// for any lost peer) and the queued bytes are dropped.
void close_backlogged(int fd, size_t queued) {
  ++backlog_closed;
  ++refused;
  auto who = principal::unauthenticated();
  if (tls_on) {
    if (auto c = connection(fd))
      who = c->who;
    else
      who = principal::unknown();
  }
  log_refusal(who, "send_backlog",
              std::to_string(queued)
                + " bytes queued behind the write in progress for a peer "
                  "that does not read them, above "
                  "connection_backlog_max_bytes "
                + std::to_string(max_backlog.load())
                + ": connection closed");
  ::shutdown(fd, SHUT_RDWR);
}

/// Checks a payload before CAF acts on it; an error state closes the
/// connection.
std::optional<basp::connection_state>
check_payload(caf::execution_unit* ctx, caf::io::new_data_msg& dm,
              const basp::header& hdr) {
  if (!tls_on)
    return std::nullopt; // plaintext: nobody is authenticated
  auto fd = dm.handle.id();
  auto c = connection(fd);
  if (!c)
    return refuse(principal::unknown(), "basp",
                  "a connection without a verified certificate");
  auto& who = c->who;
  using mt = basp::message_type;
  switch (hdr.operation) {
    case mt::server_handshake:
    case mt::client_handshake: {
      caf::binary_deserializer bd{ctx, dm.buf};
      caf::node_id nid;
      if (bd(nid) || nid == caf::none)
        return refuse(who, "basp_handshake", "no node id");
      if (c->node && *c->node != nid)
        return refuse(who, "basp_handshake",
                      "a second node id on one connection");
      if (!bind_node(nid, who))
        return refuse(who, "basp_handshake",
                      "node id " + caf::to_string(nid)
                        + " belongs to another principal");
      record_node(fd, nid);
      return std::nullopt;
    }
    default:
      break;
  }
  if (!c->node)
    return refuse(who, "basp", "a message before the handshake");
  if (!is_chatter(who))
    return std::nullopt; // nodes relay for each other (the simulator)
  switch (hdr.operation) {
    case mt::routed_message: {
      // A client's own message to a node it knows only through this one
      // (CAF routes it until the client connects there directly): fine. On
      // behalf of another node: never.
      caf::binary_deserializer bd{ctx, dm.buf};
      caf::node_id source;
      if (bd(source) || source != *c->node)
        return refuse(who, "basp_routed_message",
                      "a message relayed on behalf of "
                        + caf::to_string(source));
      return std::nullopt;
    }
    case mt::monitor_message:
    case mt::down_message: {
      caf::binary_deserializer bd{ctx, dm.buf};
      caf::node_id source;
      if (bd(source) || source != *c->node)
        return refuse(who, "basp_monitor",
                      "on behalf of another node");
      return std::nullopt;
    }
    case mt::direct_message:
      // CAF itself asks every new node's SpawnServ for its info; the other
      // named actor, ConfigServ, is an unbounded key-value store.
      if (hdr.has(basp::header::named_receiver_flag)
          && hdr.dest_actor != static_cast<uint64_t>(caf::atom("SpawnServ")))
        return refuse(who, "basp_named_receiver",
                      "clients address actors by handle only");
      if (hdr.source_actor == caf::invalid_actor_id)
        return refuse(who, "basp_anonymous_message",
                      "clients send with a sender");
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

} // namespace

uint64_t decode_guard_refusals() {
  return decode_refused;
}

std::string decode_guard_check() {
  for (auto name : {begin_sequence_symbol, message_load_symbol}) {
    auto next = dlsym(RTLD_NEXT, name);
    auto own = dlsym(RTLD_DEFAULT, name);
    if (next == nullptr)
      return std::string{"cannot find "} + name + " in libcaf_core";
    if (own == nullptr || own == next)
      return std::string{"the decode guard is not in effect (the executable "
                         "does not export "}
             + name + ")";
  }
  return {};
}

std::string install_net_guard(const net_guard_settings& s) {
  if (auto why = decode_guard_check(); !why.empty())
    return why;
  max_frame = s.max_frame_bytes;
  max_backlog = s.max_backlog_bytes;
  tls_on = s.tls;
  set_peers_authenticated(s.tls);
  if (real_handle() == nullptr)
    return "cannot find CAF's BASP handler in libcaf_io";
  auto mine = dlsym(RTLD_DEFAULT, handle_symbol);
  if (mine == nullptr || mine == reinterpret_cast<void*>(real_handle()))
    return "the BASP frame guard is not in effect (the executable does not "
           "export caf::io::basp::instance::handle)";
  {
    auto next = dlsym(RTLD_NEXT, stream_flush_symbol);
    auto own = dlsym(RTLD_DEFAULT, stream_flush_symbol);
    if (next == nullptr)
      return "cannot find caf::io::network::stream::flush in libcaf_io";
    if (own == nullptr || own == next)
      return "the send backlog guard is not in effect (the executable does "
             "not export caf::io::network::stream::flush)";
  }
  if (s.tls) {
    if (real_set_verify() == nullptr)
      return "cannot find SSL_CTX_set_verify in libssl";
    for (auto name : {"SSL_CTX_set_verify", "SSL_read", "SSL_write",
                      "SSL_connect", "SSL_accept"}) {
      auto own = dlsym(RTLD_DEFAULT, name);
      if (own == nullptr || own == dlsym(RTLD_NEXT, name))
        return std::string{"the TLS guard is not in effect (the executable "
                           "does not export "}
               + name + ")";
    }
  }
  active = true;
  return {};
}

uint64_t net_guard_frames_seen() {
  return frames_seen;
}

uint64_t net_guard_connections_refused() {
  return refused;
}

uint64_t net_guard_backlogs_closed() {
  return backlog_closed;
}

} // namespace cafchat

// -- the interposed functions -------------------------------------------------

extern "C" void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb cb) {
  auto real = cafchat::real_set_verify();
  if (real == nullptr)
    return;
  if (cafchat::tls_on && (mode & SSL_VERIFY_PEER) != 0 && cb == nullptr) {
    cb = cafchat::verify_peer;
  }
  real(ctx, mode, cb);
}

// CAF 0.17's TLS sessions share one thread (the multiplexer) and never clear
// OpenSSL's per-thread error queue before an I/O call, while SSL_get_error
// reads that queue: an error one connection left there (a peer gone without
// close_notify, a refused certificate) turns the next harmless "would block"
// on any other connection into a fatal error, and CAF closes it. So every
// node lost all its connections whenever a client came or went. OpenSSL's
// rule is to clear the queue before each call; these do.
namespace {

template <class F>
F next_ssl(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = next_ssl<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real = next_ssl<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

extern "C" int SSL_connect(SSL* ssl) {
  static auto real = next_ssl<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

extern "C" int SSL_accept(SSL* ssl) {
  static auto real = next_ssl<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

namespace caf::io::basp {

connection_state instance::handle(execution_unit* ctx, new_data_msg& dm,
                                  header& hdr, bool is_payload) {
  auto real = cafchat::real_handle();
  ++cafchat::frames_seen;
  if (!is_payload) {
    auto st = real(this, ctx, dm, hdr, false);
    if (st == await_payload && cafchat::active
        && hdr.payload_len > cafchat::max_frame) {
      auto who = cafchat::principal::unauthenticated();
      if (cafchat::tls_on)
        if (auto c = cafchat::connection(dm.handle.id()))
          who = c->who;
      return cafchat::refuse(who, "basp_frame",
                             "a payload of " + std::to_string(hdr.payload_len)
                               + " bytes, above max_frame_bytes "
                               + std::to_string(cafchat::max_frame.load()));
    }
    return st;
  }
  if (cafchat::active)
    if (auto st = cafchat::check_payload(ctx, dm, hdr))
      return *st;
  return real(this, ctx, dm, hdr, true);
}

} // namespace caf::io::basp

// -- the send backlog bound (libcaf_io) -----------------------------------------

namespace caf::io::network {

// CAF appends everything a connection's peer is sent to the stream's
// "offline" write buffer and hands it to the socket once the write in
// progress has finished: for a peer that does not read, it grows without
// bound. After CAF's own flush, what is left in it is exactly what waits
// behind the write in progress.
void stream::flush(const manager_ptr& mgr) {
  static auto real = cafchat::next_symbol<cafchat::stream_flush_fn>(
    cafchat::stream_flush_symbol);
  real(this, mgr);
  if (!cafchat::active)
    return;
  auto& queued = wr_buf();
  if (queued.size() <= cafchat::max_backlog)
    return;
  cafchat::close_backlogged(static_cast<int>(fd()), queued.size());
  buffer_type{}.swap(queued);
}

} // namespace caf::io::network

// -- the decode guard (libcaf_core) ---------------------------------------------

namespace caf {

error binary_deserializer::begin_sequence(size_t& list_size) {
  static auto real = cafchat::next_symbol<cafchat::begin_sequence_fn>(
    cafchat::begin_sequence_symbol);
  if (auto err = real(this, list_size))
    return err;
  // Every element of every sequence cafchat or CAF sends takes at least one
  // byte: more elements than bytes left is a lie, refused before the caller
  // reserves room for them.
  if (list_size > remaining()) {
    ++cafchat::decode_refused;
    list_size = 0;
    return make_error(sec::end_of_stream);
  }
  return none;
}

error message::load(deserializer& source) {
  static auto real = cafchat::next_symbol<cafchat::message_load_fn>(
    cafchat::message_load_symbol);
  if (cafchat::message_depth >= cafchat::max_message_depth) {
    ++cafchat::decode_refused;
    return make_error(sec::invalid_argument);
  }
  ++cafchat::message_depth;
  auto err = real(this, source);
  --cafchat::message_depth;
  return err;
}

} // namespace caf
