// caf-config-doc: the configuration key table (node/config_keys.cpp) as
// Markdown. With --update FILE it rewrites the key list in FILE (between its
// "config keys" marker lines), as docs/operations.md has it;
// tests/node/config_test.cpp checks that the list there is up to date.

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "node/config_keys.hpp"

int main(int argc, char** argv) {
  if (argc == 1) {
    std::cout << cafchat::config_keys_markdown();
    return 0;
  }
  if (argc != 3 || std::strcmp(argv[1], "--update") != 0) {
    std::cerr << "usage: caf-config-doc [--update FILE]\n";
    return 2;
  }
  std::string path = argv[2];
  std::ifstream in{path};
  if (!in) {
    std::cerr << "caf-config-doc: cannot read " << path << "\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  in.close();
  try {
    auto doc = cafchat::with_config_keys(text.str());
    if (doc == text.str())
      return 0;
    std::ofstream out{path, std::ios::trunc};
    out << doc;
    if (!out.flush()) {
      std::cerr << "caf-config-doc: cannot write " << path << "\n";
      return 2;
    }
    std::cerr << "caf-config-doc: updated " << path << "\n";
  } catch (std::invalid_argument& e) {
    std::cerr << "caf-config-doc: " << path << ": " << e.what() << "\n";
    return 2;
  }
  return 0;
}
