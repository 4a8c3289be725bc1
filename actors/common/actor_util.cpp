#include "actors/common/actor_util.hpp"

#include "caf/message_view.hpp"
#include "caf/result.hpp"
#include "caf/sec.hpp"

namespace cafchat {

void drop_unexpected(caf::scheduled_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor* s, caf::message_view&) -> caf::result<caf::message> {
      if (s->current_message_id().is_request())
        return caf::sec::unexpected_message;
      return caf::message{};
    });
}

int64_t now_ms(caf::scheduled_actor* self) {
  auto t = self->clock().now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

} // namespace cafchat
