#include "actors/web/web_console.hpp"

#include "caf/send.hpp"

namespace cafchat {

/// Hands what civetweb's threads see to the gateway, by message only.
class web_console::glue : public web_events {
public:
  glue(caf::actor gateway, std::shared_ptr<ws_registry> sockets)
    : gateway_(std::move(gateway)), sockets_(std::move(sockets)) {}

  void on_open(const std::shared_ptr<ws_socket>& socket) override {
    sockets_->add(socket);
    caf::anon_send(gateway_, ws_open_atom::value, socket->id());
  }
  void on_message(uint64_t id, std::string text) override {
    caf::anon_send(gateway_, ws_msg_atom::value, id, std::move(text));
  }
  void on_close(uint64_t id) override {
    sockets_->remove(id);
    caf::anon_send(gateway_, ws_close_atom::value, id);
  }

private:
  caf::actor gateway_;
  std::shared_ptr<ws_registry> sockets_;
};

std::unique_ptr<web_console> web_console::start(caf::actor_system& sys,
                                                const web_endpoint& listen,
                                                gateway_config cfg,
                                                std::string& error) {
  std::unique_ptr<web_console> c{new web_console};
  c->listen_ = listen;
  cfg.sockets = std::make_shared<ws_registry>();
  auto limits = cfg.limits;
  auto sockets = cfg.sockets;
  c->gateway_ = sys.spawn(gateway_actor, std::move(cfg));
  c->glue_ = std::make_unique<glue>(c->gateway_, sockets);
  c->server_ = web_server::start(listen, limits, *c->glue_, error);
  if (!c->server_) {
    caf::anon_send_exit(c->gateway_, caf::exit_reason::user_shutdown);
    return nullptr;
  }
  c->listen_.port = c->server_->port();
  return c;
}

web_console::~web_console() {
  stop();
}

std::string web_console::url() const {
  auto host = listen_.host == "0.0.0.0" ? std::string{"127.0.0.1"}
                                        : listen_.host;
  return "http://" + host + ":" + std::to_string(listen_.port) + "/";
}

void web_console::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
  if (gateway_) {
    caf::anon_send_exit(gateway_, caf::exit_reason::user_shutdown);
    gateway_ = caf::actor{};
  }
}

} // namespace cafchat
