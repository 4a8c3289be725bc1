// Fuzz harness: the node configuration parser (node/config.cpp, node/ini.cpp
// and the key table node/config_keys.cpp) on any text. A bad file must stop
// with a config_error naming the problem; no other exception, crash, hang or
// sanitizer finding. A file that parses describes a usable cluster: 2f+1
// servers, none of them 0.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "node/config.hpp"

using namespace cafchat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string text{reinterpret_cast<const char*>(bytes), size};
  try {
    auto cfg = parse_config(text, "fuzz.ini");
    // Whatever is accepted is a usable cluster: 2f+1 servers, each named.
    if (cfg.servers.size() != 2 * size_t{cfg.f} + 1) {
      std::fprintf(stderr, "fuzz-config: accepted f=%u with %zu servers\n",
                   cfg.f, cfg.servers.size());
      std::abort();
    }
    for (auto id : cfg.servers)
      if (id == 0) {
        std::fprintf(stderr, "fuzz-config: accepted server id 0\n");
        std::abort();
      }
  } catch (const config_error& e) {
    // The message names the file.
    if (std::string{e.what()}.find("fuzz.ini") == std::string::npos) {
      std::fprintf(stderr, "fuzz-config: an error without the file: %s\n",
                   e.what());
      std::abort();
    }
  }
  return 0;
}
