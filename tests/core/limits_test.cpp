// The pure parts of the client bounds and identities: the token bucket, the
// load balancer's name registry, client ids derived from keys, and text made
// safe for a terminal.

#include <catch2/catch.hpp>

#include <set>

#include "actors/common/client_key.hpp"
#include "actors/common/safe_text.hpp"
#include "actors/common/token_bucket.hpp"
#include "actors/load_balancer/name_registry.hpp"

using namespace cafchat;

TEST_CASE("limits: a token bucket lets a burst through, then the rate") {
  token_bucket b{10, 5}; // 10 a second, 5 saved up
  int64_t t = 1000;
  for (int i = 0; i < 5; ++i)
    CHECK(b.take(t));
  CHECK_FALSE(b.take(t));
  // One token per 100 ms.
  CHECK_FALSE(b.take(t + 99));
  CHECK(b.take(t + 100));
  CHECK_FALSE(b.take(t + 100));
  // A long pause saves up the burst, never more.
  CHECK(b.available(t + 100000) == 5);
  for (int i = 0; i < 5; ++i)
    CHECK(b.take(t + 100000));
  CHECK_FALSE(b.take(t + 100000));
  // A clock that goes back adds nothing.
  CHECK_FALSE(b.take(t));
}

TEST_CASE("limits: a token bucket over ten seconds passes rate times "
          "seconds plus the burst") {
  token_bucket b{100, 20};
  int passed = 0;
  // 1000 attempts a second for 10 s: ten times the rate.
  for (int64_t t = 0; t < 10000; ++t)
    passed += b.take(t) ? 1 : 0;
  CHECK(passed >= 100 * 10);
  CHECK(passed <= 100 * 10 + 20);
}

TEST_CASE("limits: rate 0 is no limit") {
  token_bucket b{0, 0};
  CHECK(b.unlimited());
  for (int i = 0; i < 100000; ++i)
    REQUIRE(b.take(0));
}

TEST_CASE("limits: a name belongs to one live client at a time") {
  name_registry r;
  CHECK(r.claim("alice", 1).empty());
  // The same client (same key, so the same id) again: fine.
  CHECK(r.claim("alice", 1).empty());
  auto why = r.claim("alice", 2);
  CHECK(why.rfind("name in use", 0) == 0);
  CHECK(r.holder("alice") == 1);
  CHECK(r.claim("bob", 2).empty());
  // A client that takes another name gives up its old one.
  CHECK(r.claim("carol", 1).empty());
  CHECK(r.holder("alice") == 0);
  CHECK(r.claim("alice", 2).empty());
  CHECK(r.holder("bob") == 0);
  // Gone: its name is free.
  r.release(2);
  CHECK(r.holder("alice") == 0);
  CHECK(r.claim("alice", 3).empty());
  CHECK(r.size() == 2);
}

TEST_CASE("limits: a client id follows from its key alone") {
  auto k1 = new_client_key();
  auto k2 = new_client_key();
  CHECK(k1.size() == 32);
  CHECK(k1 != k2);
  CHECK(client_id_of(k1) == client_id_of(k1));
  CHECK(client_id_of(k1) != client_id_of(k2));
  CHECK(client_id_of(k1) < (uint64_t{1} << 53));
  // SHA-256("0123456789abcdef") starts 9f9f5111f7b27a78: its first 53 bits.
  CHECK(client_id_of("0123456789abcdef") == (0x9f9f5111f7b27a78ull >> 11));
  std::set<uint64_t> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(client_id_of(new_client_key()));
  CHECK(ids.size() == 1000);
  CHECK(validate_client_key(k1).empty());
  CHECK_FALSE(validate_client_key("short").empty());
  CHECK_FALSE(validate_client_key(std::string(65, 'k')).empty());
  CHECK(validate_client_key(std::string(16, 'k')).empty());
}

TEST_CASE("limits: text for a terminal shows control, C1 and bidi "
          "characters escaped") {
  CHECK(terminal_safe("hello, world") == "hello, world");
  CHECK(terminal_safe("grüße 😀") == "grüße 😀");
  // The injection of issue 12: CR, an OSC 52 clipboard write, BEL, RLO.
  std::string evil = "hi\r[9] bob: x\x1b]52;c;AAAA\x07\xe2\x80\xae";
  auto safe = terminal_safe(evil);
  CHECK(safe == "hi\\x0d[9] bob: x\\x1b]52;c;AAAA\\x07<U+202E>");
  for (char c : safe)
    CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(terminal_safe("a\nb") == "a\\x0ab");
  CHECK(terminal_safe("a\nb", true) == "a\nb");
  CHECK(terminal_safe("\x7f") == "\\x7f");
  CHECK(terminal_safe("\xc2\x9b" "31m") == "<U+009B>31m"); // C1 CSI
  CHECK(terminal_safe("\xe2\x81\xa6x\xe2\x81\xa9") == "<U+2066>x<U+2069>");
  CHECK(terminal_safe("\xd8\x9c") == "<U+061C>");
  // Bytes that are not UTF-8 show as bytes.
  CHECK(terminal_safe("a\xff\xfe" "b") == "a\\xff\\xfeb");
  CHECK(terminal_safe("\xe2\x80") == "\\xe2\\x80");
  CHECK(is_control(0x1b));
  CHECK(is_control(0x202e));
  CHECK_FALSE(is_control('a'));
  CHECK_FALSE(is_control(0xe9));
}
