#include "actors/web/web_settings.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

namespace cafchat {

bool web_endpoint::loopback() const {
  return host.rfind("127.", 0) == 0;
}

web_endpoint parse_web_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument("expected ADDR:PORT (e.g. 127.0.0.1:8080), got '"
                                + text + "'");
  web_endpoint ep;
  ep.host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (ep.host == "localhost")
    ep.host = "127.0.0.1";
  in_addr a;
  if (inet_pton(AF_INET, ep.host.c_str(), &a) != 1)
    throw std::invalid_argument("'" + ep.host + "' in '" + text
                                + "' is not an IPv4 address (use 127.0.0.1 for "
                                  "this machine only, 0.0.0.0 for every "
                                  "interface)");
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(),
                      [](char c) { return c >= '0' && c <= '9'; })
      || std::stoul(port) > 65535)
    throw std::invalid_argument("the port in '" + text
                                + "' must be a number from 0 to 65535 (0: any "
                                  "free port)");
  ep.port = static_cast<uint16_t>(std::stoul(port));
  return ep;
}

} // namespace cafchat
