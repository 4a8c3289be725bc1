// The decode guard (node/net_guard.hpp): what CAF 0.17's decoder believes
// before the bytes are there, refused in every process that links the node
// library. The inputs are the two findings of the message fuzzer
// (tools/fuzzing/known/, docs/security.md "Findings in CAF").

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/message.hpp"

#include "messages/registry.hpp"
#include "node/net_guard.hpp"

using namespace cafchat;

namespace {

struct guard_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  guard_fixture() {
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  caf::error decode(const std::vector<char>& bytes, caf::message& out) {
    caf::binary_deserializer bd{*sys, bytes};
    return bd(out);
  }
};

/// A caf::message as CAF 0.17 writes it: a zero, the length-prefixed type
/// list, then the values.
std::vector<char> message_bytes(const std::string& types,
                                const std::vector<char>& body) {
  std::string out(2, '\0');
  out += static_cast<char>(types.size());
  out += types;
  out.append(body.data(), body.size());
  return {out.begin(), out.end()};
}

std::vector<char> nested(int depth) {
  std::vector<char> out;
  for (int i = 0; i < depth; ++i) {
    auto level = message_bytes("@<>+@message", {});
    out.insert(out.end(), level.begin(), level.end());
  }
  auto inner = message_bytes("@<>+@str", {1, 'x'});
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}

} // namespace

TEST_CASE("net guard: the decode guard is in effect in this executable") {
  CHECK(decode_guard_check() == "");
}

TEST_CASE_METHOD(guard_fixture, "net guard: a byte vector longer than its "
                                "input is refused before anything is "
                                "reserved") {
  // 21 bytes that made CAF allocate and zero 4 GiB - 1.
  auto bytes = message_bytes("@<>+@charbuf", {'\xff', '\xff', '\xff', '\xff',
                                              '\x0f'});
  auto before = decode_guard_refusals();
  caf::message m;
  decode(bytes, m); // CAF 0.17 may drop the element's error: what counts is
                    // that nothing was reserved for it
  CHECK(decode_guard_refusals() == before + 1);
  CHECK((m.empty() || !m.match_elements<std::vector<char>>()
         || m.get_as<std::vector<char>>(0).empty()));
  // An honest one still decodes, and so does every length up to its input.
  std::vector<char> buf;
  caf::binary_serializer bs{*sys, buf};
  auto honest = caf::make_message(std::vector<char>{'a', 'b', 'c'});
  REQUIRE_FALSE(bs(honest));
  caf::message back;
  CHECK_FALSE(decode(buf, back));
  REQUIRE(back.match_elements<std::vector<char>>());
  CHECK(back.get_as<std::vector<char>>(0) == std::vector<char>{'a', 'b', 'c'});
}

TEST_CASE_METHOD(guard_fixture, "net guard: messages nested deeper than "
                                "max_message_depth are refused, and shallower "
                                "ones decode") {
  caf::message m;
  auto before = decode_guard_refusals();
  CHECK_FALSE(decode(nested(max_message_depth - 1), m));
  CHECK(decode_guard_refusals() == before);
  decode(nested(max_message_depth), m);
  CHECK(decode_guard_refusals() == before + 1);
  // 30000 levels (450 KB) overflowed an 8 MiB stack without the guard: the
  // decode stops at the limit (this test would crash otherwise).
  decode(nested(30000), m);
  CHECK(decode_guard_refusals() == before + 2);
  // The depth is per decode: the next one starts from zero.
  CHECK_FALSE(decode(nested(2), m));
  CHECK(decode_guard_refusals() == before + 2);
}
