// How the chat shell reads a line of input, with no terminal and no readline
// (actors/shell/input_line.hpp).

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
