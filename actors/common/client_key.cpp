#include "actors/common/client_key.hpp"

#include <stdexcept>

#include <openssl/rand.h>
#include <openssl/sha.h>

namespace cafchat {

std::string new_client_key() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof(buf)) != 1)
    throw std::runtime_error("no randomness for a client key (RAND_bytes)");
  return std::string(reinterpret_cast<const char*>(buf), sizeof(buf));
}

uint64_t client_id_of(const std::string& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
         digest);
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i)
    id = (id << 8) | digest[i];
  // 53 bits, so that JavaScript (the web console) reads it exactly.
  id >>= 11;
  return id == 0 ? 1 : id; // 0 means "no client" in places
}

std::string validate_client_key(const std::string& key) {
  if (key.size() < client_key_min_bytes || key.size() > client_key_max_bytes)
    return "client key of " + std::to_string(key.size())
           + " bytes (a key is " + std::to_string(client_key_min_bytes)
           + " to " + std::to_string(client_key_max_bytes) + " bytes)";
  return {};
}

} // namespace cafchat
