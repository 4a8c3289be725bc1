#pragma once

// The web console as a whole, for the programs: the gateway actor and the
// civetweb server, wired together. caf-node starts one beside its shell
// (--web ADDR:PORT or [web] listen); caf-web is one as a client node of a
// multi-process cluster.

#include <memory>
#include <string>

#include "caf/actor_system.hpp"

#include "actors/web/gateway.hpp"

namespace cafchat {

class web_console {
public:
  /// Starts serving on `listen`; null with `error` set if it cannot (a busy
  /// port). `cfg.sockets` is filled in here.
  static std::unique_ptr<web_console> start(caf::actor_system& sys,
                                            const web_endpoint& listen,
                                            gateway_config cfg,
                                            std::string& error);
  ~web_console();

  /// http://ADDR:PORT/ with the port actually used.
  std::string url() const;
  /// Closes every connection and stops the gateway (and its clients).
  void stop();

private:
  class glue;
  web_console() = default;
  std::unique_ptr<glue> glue_;
  std::unique_ptr<web_server> server_;
  caf::actor gateway_;
  web_endpoint listen_;
};

} // namespace cafchat
