#include "tests/sim/harness.hpp"

#include <set>
#include <sstream>

namespace cafchat::test {

namespace {

std::string show(const chat_entry& e) {
  std::ostringstream os;
  os << "[" << e.index << " slot " << e.slot << " client " << e.client
     << " seq " << e.seq << " '" << e.text << "']";
  return os.str();
}

} // namespace

std::string check_histories(const cluster_harness& h) {
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
  // Validity, no duplicates, per-client order.
  std::map<uint64_t, const test_client*> by_id;
  for (auto& c : h.clients)
    by_id[c->id] = c.get();
  std::map<uint64_t, uint64_t> last_seq;
  for (auto& e : common) {
    auto c = by_id.find(e.client);
    if (c == by_id.end())
      return "validity: " + show(e) + " comes from no known client";
    auto& said = c->second->said;
    if (e.seq == 0 || e.seq > said.size() || said[e.seq - 1] != e.text
        || e.from != c->second->name)
      return "validity: " + show(e) + " is not what client "
             + c->second->name + " sent with seq " + std::to_string(e.seq);
    auto& last = last_seq[e.client];
    if (e.seq <= last)
      return "no duplicates: " + show(e) + " repeats or reorders seq "
             + std::to_string(last) + " of " + c->second->name;
    if (e.seq != last + 1)
      return "per-client order: " + show(e) + " skips seq "
             + std::to_string(last + 1) + " of " + c->second->name;
    last = e.seq;
  }
  // Durability: everything a client saw acknowledged is in the history.
  for (auto& c : h.clients)
    if (c->rec->acked > last_seq[c->id])
      return "durability: " + c->name + " saw seq "
             + std::to_string(c->rec->acked) + " acknowledged, but the "
             + "history holds only up to " + std::to_string(last_seq[c->id]);
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
