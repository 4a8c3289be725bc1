#include "messages/registry.hpp"

#include "caf/actor_system_config.hpp"

#include "caf/sec.hpp"

#include "messages/client.hpp"
#include "messages/errors.hpp"
#include "messages/control.hpp"
#include "messages/paxos.hpp"
#include "messages/web.hpp"

namespace cafchat {

void add_message_types(caf::actor_system_config& cfg) {
  // paxos.hpp
  cfg.add_message_type<ballot>("cafchat::ballot");
  cfg.add_message_type<command>("cafchat::command");
  cfg.add_message_type<value>("cafchat::value");
  cfg.add_message_type<accepted_slot>("cafchat::accepted_slot");
  // Every peer message, under its traits' name.
  for_each_type(peer_messages{}, [&cfg](auto tag) {
    using type = typename decltype(tag)::type;
    cfg.add_message_type<type>(peer_type_name<type>());
  });
  // client.hpp
  cfg.add_message_type<submit>("cafchat::submit");
  cfg.add_message_type<chat_entry>("cafchat::chat_entry");
  cfg.add_message_type<delivered>("cafchat::delivered");
  cfg.add_message_type<acknowledged>("cafchat::acknowledged");
  cfg.add_message_type<rejected>("cafchat::rejected");
  cfg.add_message_type<received>("cafchat::received");
  cfg.add_message_type<history_request>("cafchat::history_request");
  cfg.add_message_type<history_reply>("cafchat::history_reply");
  // control.hpp
  cfg.add_message_type<hello>("cafchat::hello");
  cfg.add_message_type<welcome>("cafchat::welcome");
  cfg.add_message_type<server_info>("cafchat::server_info");
  cfg.add_message_type<register_server>("cafchat::register_server");
  cfg.add_message_type<assign_request>("cafchat::assign_request");
  cfg.add_message_type<assignment>("cafchat::assignment");
  cfg.add_message_type<server_role>("cafchat::server_role");
  cfg.add_message_type<acceptor_status>("cafchat::acceptor_status");
  cfg.add_message_type<server_status>("cafchat::server_status");
  cfg.add_message_type<client_placement>("cafchat::client_placement");
  cfg.add_message_type<cluster_view>("cafchat::cluster_view");
  cfg.add_message_type<operator_action>("cafchat::operator_action");
  cfg.add_message_type<operator_command>("cafchat::operator_command");
  cfg.add_message_type<routed>("cafchat::routed");
  cfg.add_message_type<sim_action>("cafchat::sim_action");
  cfg.add_message_type<sim_control>("cafchat::sim_control");
  cfg.add_message_type<sim_report>("cafchat::sim_report");
  // web.hpp
  cfg.add_message_type<event_subscribe>("cafchat::event_subscribe");
  cfg.add_message_type<event_batch>("cafchat::event_batch");
  cfg.add_error_category(caf::atom("cafchat"),
                         [](uint8_t code, caf::atom_value,
                            const caf::message& ctx) -> std::string {
                           std::string s = "cafchat.";
                           s += to_string(static_cast<chat_errc>(code));
                           if (ctx.match_elements<std::string>()) {
                             s += ": ";
                             s += ctx.get_as<std::string>(0);
                           }
                           return s;
                         });
}

} // namespace cafchat

namespace cafchat {

const char* to_string(chat_errc x) {
  switch (x) {
    case chat_errc::unknown_server:
      return "unknown_server";
    case chat_errc::not_ready:
      return "not_ready";
    case chat_errc::no_server:
      return "no_server";
    case chat_errc::oversize:
      return "oversize";
    case chat_errc::invalid_text:
      return "invalid_text";
    case chat_errc::unknown_target:
      return "unknown_target";
    case chat_errc::invalid_fault:
      return "invalid_fault";
    case chat_errc::invalid_name:
      return "invalid_name";
    case chat_errc::not_permitted:
      return "not_permitted";
    case chat_errc::name_in_use:
      return "name_in_use";
    case chat_errc::invalid_key:
      return "invalid_key";
    case chat_errc::over_limit:
      return "over_limit";
  }
  return "unknown";
}

std::string describe(const caf::error& err) {
  if (err.category() == caf::atom("cafchat")) {
    auto& ctx = err.context();
    if (ctx.match_elements<std::string>())
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<chat_errc>(err.code()));
  }
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return caf::to_string(err);
}

} // namespace cafchat
