#include "actors/common/actor_util.hpp"

#include "caf/message_view.hpp"
#include "caf/result.hpp"
#include "caf/exit_reason.hpp"
#include "caf/sec.hpp"

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

#include "actors/common/event_log.hpp"
#include "actors/storage/storage.hpp"

namespace cafchat {

void drop_unexpected(caf::scheduled_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor* s, caf::message_view&) -> caf::result<caf::message> {
      if (s->current_message_id().is_request())
        return caf::sec::unexpected_message;
      return caf::message{};
    });
}

namespace {

std::atomic<bool> crashes_to_stderr{true};

} // namespace

void print_crashes(bool on) {
  crashes_to_stderr = on;
}

void log_crashes(caf::scheduled_actor* self, std::shared_ptr<event_log> log,
                 uint32_t server, const char* role) {
  self->set_exception_handler(
    [=](caf::scheduled_actor* s, std::exception_ptr& ep) -> caf::error {
      std::string what = "unknown exception";
      // A storage failure is an operating error (a dead or full disk): the
      // server stops and says why. Anything else is a broken invariant.
      const char* event = "crash";
      try {
        std::rethrow_exception(ep);
      } catch (storage_error& e) {
        what = e.what();
        event = "storage_failed";
      } catch (std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      if (crashes_to_stderr)
        std::fprintf(stderr, "cafchat: server %u %s %s: %s\n", server, role,
                   event == std::string_view{"crash"} ? "crashed"
                                                      : "stopped on a storage "
                                                        "failure",
                   what.c_str());
      if (log && log->enabled())
        log->event(now_ms(s), server, event)
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
