#include "actors/common/actor_util.hpp"

#include "caf/message_view.hpp"
#include "caf/result.hpp"
#include "caf/exit_reason.hpp"
#include "caf/sec.hpp"

#include <cstdio>
#include <string>

#include "actors/common/event_log.hpp"

namespace cafchat {

void drop_unexpected(caf::scheduled_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor* s, caf::message_view&) -> caf::result<caf::message> {
      if (s->current_message_id().is_request())
        return caf::sec::unexpected_message;
      return caf::message{};
    });
}

void log_crashes(caf::scheduled_actor* self, std::shared_ptr<event_log> log,
                 uint32_t server, const char* role) {
  self->set_exception_handler(
    [=](caf::scheduled_actor* s, std::exception_ptr& ep) -> caf::error {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      std::fprintf(stderr, "cafchat: server %u %s crashed: %s\n", server, role,
                   what.c_str());
      if (log && log->enabled())
        log->event(now_ms(s), server, "crash")
          .field("role", role)
          .field("what", what);
      return caf::exit_reason::unhandled_exception;
    });
}

int64_t now_ms(caf::scheduled_actor* self) {
  auto t = self->clock().now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

} // namespace cafchat
