// The LMDB store's records decoded from bytes alone, with no environment
// (actors/storage/lmdb_records.hpp): what each stored type decodes to, and
// that damaged bytes give a storage_error naming the store and the record.

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/storage/lmdb_records.hpp"

using namespace cafchat;

using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

const std::string dir = "/nowhere/server-1";

/// The message of the storage_error `f` throws ("" if it throws none).
template <class F>
std::string refusal(F f) {
  try {
    f();
  } catch (const storage_error& e) {
    return e.what();
  }
  return "";
}

template <class T>
T round_trip(const T& x, const std::string& what) {
  auto buf = encode(x);
  return decode_record<T>(dir, buf.data(), buf.size(), what);
}

} // namespace

TEST_CASE("lmdb records: every stored type decodes to what was encoded") {
  CHECK(round_trip(ballot{7, 3}, "the promise") == ballot{7, 3});
  CHECK(round_trip(uint64_t{42}, "client 9") == 42);
  acceptor_meta m;
  m.voting = true;
  m.epoch = 5;
  m.epochs = {{2, 4}};
  m.recovered_floor = 11;
  CHECK(round_trip(m, "the acceptor's meta record") == m);
  auto val = value::of({command{9, 1, "bob", "hi"}}, 1700000000000);
  auto a = round_trip(accepted_slot{4, {2, 1}, val}, "accepted slot 4");
  CHECK(a.slot == 4);
  CHECK(a.val == val);
  auto d = round_trip(decide{5, val, {2, 1}, false}, "decided slot 5");
  CHECK(d.slot == 5);
  CHECK(d.val == val);
  auto e = round_trip(chat_entry{3, 5, 9, 1, "bob", "hi", 1700000000000},
                      "history entry 3");
  CHECK(e.index == 3);
  CHECK(e.text == "hi");
}

TEST_CASE("lmdb records: damaged bytes are refused with the store and the "
          "record named") {
  auto entry = encode(chat_entry{3, 5, 9, 1, "bob", "hi", 1700000000000});
  auto truncated = std::vector<char>(entry.begin(), entry.end() - 1);
  auto trailing = entry;
  trailing.insert(trailing.end(), {'z', 'z', 'z'});
  // Four numbers, then a sender name that claims about 4 GiB.
  auto huge = std::vector<char>(entry.begin(), entry.begin() + 32);
  huge.insert(huge.end(), {'\xff', '\xff', '\xff', '\xff', '\x0f'});
  struct row {
    const char* name;
    std::vector<char> bytes;
    const char* says;
  };
  const row rows[] = {
    {"empty", {}, "does not decode"},
    {"truncated", truncated, "does not decode"},
    {"trailing bytes", trailing, "3 trailing bytes"},
    {"a length past the end", huge, "does not decode"},
  };
  for (auto& r : rows) {
    INFO(r.name);
    auto why = refusal([&] {
      decode_record<chat_entry>(dir, r.bytes.data(), r.bytes.size(),
                                "history entry 3");
    });
    CHECK_THAT(why, StartsWith(dir + ": history entry 3 does not decode: "));
    CHECK_THAT(why, Contains(r.says));
  }
}

TEST_CASE("lmdb records: the meta record names its format, version and "
          "server") {
  auto check = [](const lmdb_meta& m, server_id id) {
    auto buf = encode(m);
    return refusal([&] {
      if (decode_meta_record(dir, buf.data(), buf.size(), id).id != id)
        throw storage_error("decoded another id");
    });
  };
  CHECK(check(lmdb_meta{}, 0).empty());
  CHECK(check(lmdb_meta{"cafchat-lmdb", lmdb_meta::format_version, 2}, 2)
          .empty());
  CHECK_THAT(check(lmdb_meta{"sqlite", 1, 2}, 2),
             Equals(dir + ": meta says format 'sqlite', not 'cafchat-lmdb'"));
  CHECK_THAT(check(lmdb_meta{"cafchat-lmdb", lmdb_meta::format_version, 2}, 3),
             Equals(dir + ": meta says server 2, not 3"));
  CHECK_THAT(refusal([] { decode_meta_record(dir, "\x01", 1, 1); }),
             StartsWith(dir + ": the meta record does not decode: "));
}

TEST_CASE("lmdb records: keys are 8 bytes big-endian, in numeric order") {
  unsigned char a[8];
  unsigned char b[8];
  encode_key(255, a);
  encode_key(256, b);
  CHECK(std::memcmp(a, b, 8) < 0);
  encode_key(0x0102030405060708, a);
  CHECK(a[0] == 1);
  CHECK(a[7] == 8);
  CHECK(decode_key(dir, "history", a, 8) == 0x0102030405060708);
  CHECK_THAT(refusal([&] { decode_key(dir, "history", a, 7); }),
             Equals(dir + ": history has a key of 7 bytes, not 8"));
}
