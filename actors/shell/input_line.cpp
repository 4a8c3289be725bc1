#include "actors/shell/input_line.hpp"

#include <sstream>

namespace cafchat {

input_line parse_input_line(std::string line) {
  input_line in;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.empty())
    return in;
  if (line.rfind("//", 0) == 0) {
    in.kind = input_line::message;
    in.text = line.substr(1);
    return in;
  }
  if (line[0] == '/') {
    in.kind = input_line::command;
    std::istringstream words{line};
    words >> in.name;
    for (std::string a; words >> a;)
      in.args.push_back(a);
    return in;
  }
  in.kind = input_line::message;
  in.text = std::move(line);
  return in;
}

} // namespace cafchat
