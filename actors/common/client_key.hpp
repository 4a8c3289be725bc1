#pragma once

// A client's identity: a secret key that only the client holds (caf-chat
// draws one at start and keeps it for its reconnects and resumes), and the
// client id that follows from it, the first 53 bits of the key's SHA-256.
// A client says hello with its key, and the server derives the id: an id
// printed in every JSON line is no use to anyone without the key behind it.

#include <cstdint>
#include <string>

namespace cafchat {

/// A key is this many bytes, at least and at most.
constexpr size_t client_key_min_bytes = 16;
constexpr size_t client_key_max_bytes = 64;

/// A fresh key of 32 random bytes (OpenSSL's RAND_bytes); throws
/// std::runtime_error if the system has no randomness to give.
std::string new_client_key();

/// The id of the client holding `key`: the first 53 bits of its SHA-256
/// (big endian; 53, so that JavaScript reads it exactly), never 0.
uint64_t client_id_of(const std::string& key);

/// Why `key` cannot be a client key (its size), or "" if it can.
std::string validate_client_key(const std::string& key);

} // namespace cafchat
