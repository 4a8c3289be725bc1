#include "actors/learner/chat_state.hpp"

#include <algorithm>

namespace cafchat {

std::vector<chat_entry>
chat_state::apply(uint64_t slot, const value& val,
                  std::vector<std::pair<uint64_t, uint64_t>>* touched,
                  std::vector<std::pair<uint64_t, uint64_t>>* withdrawn) {
  std::vector<chat_entry> added;
  if (val.is_noop())
    return added;
  for (auto& c : val.commands) {
    auto& last = clients_[c.client];
    if (c.seq != last + 1)
      continue; // applied already, or overtook an earlier command
    last = c.seq;
    if (touched != nullptr)
      touched->emplace_back(c.client, c.seq);
    if (c.is_withdrawal()) {
      // The seq is used up without an entry: the client's next one follows.
      if (withdrawn != nullptr)
        withdrawn->emplace_back(c.client, c.seq);
      continue;
    }
    last_time_ = keep_times_rising_ ? std::max(last_time_, val.time_ms)
                                    : val.time_ms;
    added.push_back(
      chat_entry{++size_, slot, c.client, c.seq, c.from, c.text, last_time_});
  }
  return added;
}

} // namespace cafchat
