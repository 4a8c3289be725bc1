#pragma once

// Operating errors (bad request, not ready, oversize input): typed CAF errors
// whose context carries a sentence for the user. Broken invariants are not
// errors; they crash (see docs/design.md).

#include <cstdint>
#include <string>

#include "caf/error.hpp"
#include "caf/make_message.hpp"

namespace cafchat {

enum class chat_errc : uint8_t {
  unknown_server = 1, ///< A server id the configuration does not list.
  not_ready,          ///< The load balancer still waits for servers.
  no_server,          ///< Every server is down.
  oversize,           ///< Text above max_text_bytes.
  invalid_text,       ///< Not valid UTF-8, or empty.
  unknown_target,     ///< An operator command for a server that is not there.
  invalid_fault,      ///< A simulator control with a bad rule or value.
  invalid_name,       ///< A chat name that is empty, too long or unprintable.
  not_permitted,      ///< The sender's principal may not ask this (docs/security.md).
  name_in_use,        ///< Another live client has this name.
  invalid_key,        ///< A client key of the wrong size.
  over_limit,         ///< A [limits] bound: sessions, clients, send queue.
};

const char* to_string(chat_errc x);

/// An error with a human-readable explanation as its context.
inline caf::error make_chat_error(chat_errc code, std::string why) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("cafchat"),
                    caf::make_message(std::move(why))};
}

/// The explanation of a cafchat error, or CAF's rendering of any other.
std::string describe(const caf::error& err);

} // namespace cafchat
