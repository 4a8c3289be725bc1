// How the chat shell reads a line of input, with no terminal and no readline
// (actors/shell/input_line.hpp).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/shell/input_line.hpp"

using namespace cafchat;

TEST_CASE("input: a line is a message, a command with its words, or nothing") {
  using words = std::vector<std::string>;
  struct row {
    std::string line;
    input_line::kind_t kind;
    std::string text;
    std::string name;
    words args;
  };
  const row rows[] = {
    {"", input_line::nothing, "", "", {}},
    {"\r", input_line::nothing, "", "", {}},
    {"hello there", input_line::message, "hello there", "", {}},
    {"hello\r", input_line::message, "hello", "", {}},
    {"  /who", input_line::message, "  /who", "", {}},
    {"//etc/passwd", input_line::message, "/etc/passwd", "", {}},
    {"//", input_line::message, "/", "", {}},
    {"/who", input_line::command, "", "/who", {}},
    {"/history 5\r", input_line::command, "", "/history", {"5"}},
    {"/kill   2  ", input_line::command, "", "/kill", {"2"}},
    {"/sync\t1.5", input_line::command, "", "/sync", {"1.5"}},
    {"/faults 1 p:10::a:20", input_line::command, "", "/faults",
     {"1", "p:10::a:20"}},
    {"/", input_line::command, "", "/", {}},
  };
  for (auto& r : rows) {
    INFO("line '" << r.line << "'");
    auto in = parse_input_line(r.line);
    CHECK(in.kind == r.kind);
    CHECK(in.text == r.text);
    CHECK(in.name == r.name);
    CHECK(in.args == r.args);
  }
}

TEST_CASE("input: a count argument is decimal digits within its bounds") {
  CHECK(parse_count_arg("1", 1, 10) == 1u);
  CHECK(parse_count_arg("007", 1, 10) == 7u);
  CHECK(parse_count_arg("4294967295", 1, UINT32_MAX) == UINT32_MAX);
  CHECK(parse_count_arg("18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
  // A server id is 32 bits: not cut to 1 as strtoul and a cast did.
  CHECK_FALSE(parse_count_arg("4294967297", 1, UINT32_MAX));
  // strtoul read "-1" as 2^64-1 and "-4294967295" as 1.
  for (const char* bad : {"", "0", "11", "-1", "-4294967295", "+1", " 1", "1 ",
                          "1.0", "1e3", "0x10", "nan", "18446744073709551616",
                          "99999999999999999999999"})
    CHECK_FALSE(parse_count_arg(bad, 1, 10));
}

TEST_CASE("input: a seconds argument is a finite decimal within its bounds") {
  CHECK(parse_seconds_arg("0", 10) == 0.0);
  CHECK(parse_seconds_arg("1.5", 10) == 1.5);
  CHECK(parse_seconds_arg(".5", 10) == 0.5);
  CHECK(parse_seconds_arg("2.", 10) == 2.0);
  CHECK(parse_seconds_arg("86400", max_command_seconds) == 86400.0);
  // strtod took all of these; nan and 1e300 then overflowed the deadline.
  for (const char* bad : {"", ".", "nan", "NAN", "inf", "-inf", "-1", "+1",
                          "1e300", "0x10", "1..2", "1.2.3", " 1", "1,5",
                          "86400.5", "123456789012345678901"})
    CHECK_FALSE(parse_seconds_arg(bad, max_command_seconds));
}
