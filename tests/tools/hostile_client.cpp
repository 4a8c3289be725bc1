// caf-hostile: a client with a valid client certificate that tries what only
// servers, the load balancer and operators may do (tests/process/test_tls.py).
// Each attempt prints one JSON line: what it tried and what came back.
//
//   caf-hostile --config FILE --cert FILE --key FILE --target N
//   caf-hostile --config FILE [--cert FILE --key FILE] --probe NODE
//
// --probe only connects to NODE (lb, 1, 2, ...) and reports whether that
// worked: with a config without [tls] it is a plaintext CAF remote_actor.
//
// Exit code 0 when every attempt ran (refused or not: the test decides),
// 1 when the cluster could not be reached.

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "messages/atoms.hpp"
#include "actors/common/client_key.hpp"
#include "messages/control.hpp"
#include "messages/errors.hpp"
#include "node/config.hpp"
#include "node/distributed.hpp"

using namespace cafchat;

namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s)
    if (c == '"' || c == '\\')
      out += std::string{'\\'} + c;
    else if (static_cast<unsigned char>(c) < 0x20)
      out += ' ';
    else
      out += c;
  return out + "\"";
}

void report(const std::string& step, bool refused, const std::string& detail) {
  std::cout << "{\"step\":" << quote(step) << ",\"refused\":"
            << (refused ? "true" : "false") << ",\"detail\":" << quote(detail)
            << "}" << std::endl;
}

} // namespace

int main(int argc, char** argv) {
  std::string config, cert, key, ca;
  server_id target = 1;
  std::string probe;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::string v = argv[i + 1];
    if (a == "--config")
      config = v;
    else if (a == "--cert")
      cert = v;
    else if (a == "--key")
      key = v;
    else if (a == "--ca")
      ca = v;
    else if (a == "--probe")
      probe = v;
    else if (a == "--target")
      target = static_cast<server_id>(std::stoul(v));
  }
  node_config cfg;
  try {
    cfg = load_config(config);
  } catch (std::exception& e) {
    std::cerr << "caf-hostile: " << e.what() << std::endl;
    return 2;
  }
  if (auto why = resolve_tls(cfg, "client", cert, key, ca); !why.empty()) {
    std::cerr << "caf-hostile: " << why << std::endl;
    return 2;
  }
  caf::actor_system_config sys_cfg;
  configure_runtime(sys_cfg, cfg);
  caf::actor_system sys{sys_cfg};
  if (!probe.empty()) {
    auto& ep = cfg.nodes.at(probe);
    auto t0 = std::chrono::steady_clock::now();
    auto x = connect_to(sys, ep.host, ep.port);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
    report("probe " + probe, !x,
           (x ? std::string{"connected"} : sys.render(x.error())) + " after "
             + std::to_string(ms) + " ms");
    return 0;
  }
  auto& lb_ep = cfg.nodes.at("lb");
  auto lb = connect_to(sys, lb_ep.host, lb_ep.port);
  if (!lb) {
    std::cerr << "caf-hostile: no load balancer: " << sys.render(lb.error())
              << std::endl;
    return 1;
  }
  auto& host_ep = cfg.nodes.at(std::to_string(target));
  auto host = connect_to(sys, host_ep.host, host_ep.port);
  if (!host) {
    std::cerr << "caf-hostile: no server " << target << ": "
              << sys.render(host.error()) << std::endl;
    return 1;
  }
  caf::scoped_actor self{sys};
  auto timeout = std::chrono::seconds(5);
  // 1. An assignment, as any client gets: does it carry role handles?
  self->request(*lb, timeout, assign_request{cafchat::new_client_key(), "mallory", caf::actor_cast<caf::actor>(self), 0})
    .receive(
      [&](const assignment& a) {
        bool roles = a.server.acceptor || a.server.proposer || a.server.learner;
        report("assignment_role_handles", !roles,
               roles ? "the assignment carries role handles"
                     : "front only (server " + std::to_string(a.server.id)
                         + ")");
      },
      [&](caf::error& e) { report("assignment_role_handles", true, describe(e)); });
  // 2. Register as server `target`, with ourselves as its front and roles.
  server_info fake;
  fake.id = target;
  fake.incarnation = ~uint64_t{0} >> 1;
  fake.acceptor = fake.proposer = fake.learner = fake.front
    = caf::actor_cast<caf::actor>(self);
  fake.host = "127.0.0.1";
  fake.port = 1;
  self->request(*lb, timeout, register_server{fake, caf::actor_cast<caf::actor>(self)}).receive(
    [&](bool ok) { report("register_server", !ok, ok ? "accepted" : "false"); },
    [&](caf::error& e) { report("register_server", true, describe(e)); });
  // 3. An operator command through the load balancer, and straight to the
  //    host.
  for (auto [step, dest] : {std::pair{"operator_command_lb", *lb},
                            std::pair{"operator_command_host", *host}})
    self->request(dest, timeout, operator_command{operator_action::kill, target})
      .receive(
        [&](bool ok) {
          report(step, false, ok ? "accepted: server killed" : "false");
        },
        [&](caf::error& e) { report(step, true, describe(e)); });
  // 4. Peer messages: announce a fake server `target` to its own host (its
  //    roles would then talk to us), and Paxos messages to the host.
  self->send(*host, peer_atom::value, fake);
  self->send(*host, prepare{ballot{1u << 30, target}, 1, 0});
  self->send(*host, decide{1, value::of({command{424242, 1, "mallory", "forged"}}),
                           ballot{1u << 30, target}});
  report("peer_messages_sent", true, "peer_atom, prepare, decide to the host");
  // 5. The simulator's controls, if the balancer runs one.
  self->request(*lb, timeout, sim_atom::value).receive(
    [&](const caf::actor& sim) {
      if (!sim) {
        report("sim_control", true, "no simulator");
        return;
      }
      sim_control c;
      c.action = sim_action::drop;
      c.probability = 1.0;
      self->request(sim, timeout, c).receive(
        [&](const sim_report&) { report("sim_control", false, "accepted"); },
        [&](caf::error& e) { report("sim_control", true, describe(e)); });
    },
    [&](caf::error& e) { report("sim_control", true, describe(e)); });
  // Let the asynchronous sends leave before the process goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return 0;
}
