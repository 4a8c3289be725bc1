#pragma once

// The one way cafchat writes and reads JSON: nlohmann/json (Debian's
// nlohmann-json3-dev). Every JSON line cafchat writes is a `json_line`: the
// event log, the shell's --output jsonl, caf-bench --json, caf-rtt --json and
// the simulation's trace. Objects keep their keys in the order they were
// added, so a line reads as it was written, and the same value always gives
// the same bytes.

#include <string>

#include <nlohmann/json.hpp>

#include "messages/paxos.hpp"

namespace cafchat {

/// A JSON value whose objects keep their keys in insertion order.
using ordered_json = nlohmann::ordered_json;

/// `j` as one compact line (no spaces, no newline). Invalid UTF-8 (messages
/// are checked, but a name may hold some) becomes U+FFFD instead of an
/// exception.
inline std::string json_line(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

/// A ballot in JSON: [round, node].
inline void to_json(ordered_json& j, const ballot& b) {
  j = ordered_json::array({b.round, b.node});
}

} // namespace cafchat
