#include "tools/sim/harness.hpp"

#include <set>

#include "actors/learner/chat_state.hpp"
#include <sstream>

namespace cafchat::test {

namespace {

std::string show(const chat_entry& e) {
  std::ostringstream os;
  os << "[" << e.index << " slot " << e.slot << " client " << e.client
     << " seq " << e.seq << " '" << e.text << "' at " << e.time_ms << "]";
  return os.str();
}

} // namespace

std::string check_histories(const cluster_harness& h, bool beyond_tolerance) {
  // Every view: each client's, and each server's stored history.
  std::vector<std::pair<std::string, std::vector<chat_entry>>> views;
  for (auto& c : h.clients)
    views.emplace_back("client " + c->name, c->rec->entries);
  for (auto& [id, d] : h.disks)
    views.emplace_back("server " + std::to_string(id),
                       d.learner->history(1, 100000000));
  // Agreement: all views are prefixes of the longest one.
  size_t longest = 0;
  for (size_t i = 0; i < views.size(); ++i)
    if (views[i].second.size() > views[longest].second.size())
      longest = i;
  auto& common = views[longest].second;
  for (auto& [who, v] : views)
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].index != i + 1)
        return who + " has entry " + show(v[i]) + " at position "
               + std::to_string(i + 1) + " (a gap or a duplicate)";
      if (!(v[i] == common[i]))
        return "agreement: " + who + " has " + show(v[i]) + " where "
               + views[longest].first + " has " + show(common[i]);
    }
  // Times never decrease along the history (and, by agreement above, every
  // view shows the same time for each index).
  for (size_t i = 1; i < common.size(); ++i)
    if (common[i].time_ms < common[i - 1].time_ms)
      return "times: " + views[longest].first + " has " + show(common[i])
             + " after " + show(common[i - 1]);
  // Which seqs the log withdrew: replay every server's decided log through
  // the state machine (a withdrawal the log skipped withdrew nothing).
  std::set<std::pair<uint64_t, uint64_t>> withdrawn;
  size_t known = 0; // entries some server's log accounts for
  for (auto& [id, d] : h.disks) {
    chat_state replay;
    std::vector<std::pair<uint64_t, uint64_t>> w;
    for (auto& slot : d.learner->decided(1, 100000000))
      replay.apply(slot.slot, slot.val, nullptr, &w);
    withdrawn.insert(w.begin(), w.end());
    known = std::max<size_t>(known, replay.size());
  }
  // Validity, no duplicates, per-client order.
  std::map<uint64_t, const test_client*> by_id;
  for (auto& c : h.clients)
    by_id[c->id] = c.get();
  std::map<uint64_t, uint64_t> last_seq;
  for (auto& e : common) {
    auto c = by_id.find(e.client);
    if (c == by_id.end())
      return "validity: " + show(e) + " comes from no known client";
    auto& said = c->second->rec->said;
    if (e.seq == 0 || e.seq > said.size() || said[e.seq - 1] != e.text
        || e.from != c->second->name)
      return "validity: " + show(e) + " is not what client "
             + c->second->name + " sent with seq " + std::to_string(e.seq);
    auto& last = last_seq[e.client];
    auto& told = c->second->rec->withdrawn;
    if (e.seq <= last)
      return "no duplicates: " + show(e) + " repeats or reorders seq "
             + std::to_string(last) + " of " + c->second->name;
    if (told.count(e.seq) > 0 || withdrawn.count({e.client, e.seq}) > 0)
      return "withdrawal: " + show(e) + " is in the history although "
             + "its seq was withdrawn";
    // A seq may be missing only because it was withdrawn. (With more disks
    // lost than tolerated, the end of a history may survive only in a
    // client's view, and what the log withdrew there is lost with it.)
    bool unknowable = beyond_tolerance && e.index > known;
    for (auto s = last + 1; s < e.seq && !unknowable; ++s)
      if (told.count(s) == 0 && withdrawn.count({e.client, s}) == 0)
        return "per-client order: " + show(e) + " skips seq "
               + std::to_string(s) + " of " + c->second->name;
    last = e.seq;
  }
  // Durability: everything a client saw acknowledged is in the history
  // (or was withdrawn, and the client was told).
  for (auto& c : h.clients) {
    auto settled = last_seq[c->id];
    while (c->rec->withdrawn.count(settled + 1) > 0
           || withdrawn.count({c->id, settled + 1}) > 0)
      ++settled;
    if (c->rec->acked > settled)
      return "durability: " + c->name + " saw seq "
             + std::to_string(c->rec->acked) + " acknowledged, but the "
             + "history holds only up to " + std::to_string(last_seq[c->id]);
  }
  return {};
}

std::string check_decided_logs(const cluster_harness& h) {
  std::vector<std::pair<server_id, std::vector<decide>>> logs;
  for (auto& [id, d] : h.disks)
    logs.emplace_back(id, d.learner->decided(1, 100000000));
  size_t longest = 0;
  for (size_t i = 0; i < logs.size(); ++i)
    if (logs[i].second.size() > logs[longest].second.size())
      longest = i;
  auto& ref = logs[longest];
  for (auto& [id, log] : logs)
    for (size_t i = 0; i < log.size(); ++i)
      if (log[i].slot != i + 1 || log[i].val != ref.second[i].val)
        return "agreement: server " + std::to_string(id) + " decided slot "
               + std::to_string(i + 1) + " differently from server "
               + std::to_string(ref.first);
  return {};
}

} // namespace cafchat::test
