#include "actors/simulator/fault_model.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace cafchat {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

std::string duration(int64_t ms) {
  if (ms != 0 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

fault_refusal invalid(std::string why) {
  return fault_refusal{false, std::move(why)};
}

} // namespace

const char* to_string(drop_reason x) {
  switch (x) {
    case drop_reason::none:
      return "none";
    case drop_reason::omission:
      return "omission";
    case drop_reason::partition:
      return "partition";
    case drop_reason::rule:
      return "rule";
    case drop_reason::random:
      return "random";
  }
  return "unknown";
}

fault_model::fault_model(sim_options opts, std::vector<server_id> servers,
                         int64_t now_ms)
  : opts_(std::move(opts)), configured_(std::move(servers)), rng_(opts_.seed) {
  std::sort(configured_.begin(), configured_.end());
  for (auto& [id, rule] : opts_.rules)
    rule_set_at_ms_[id] = now_ms;
  if (opts_.omission)
    ++epoch_;
}

// -- random numbers -------------------------------------------------------------

double fault_model::uniform01() {
  // The top 53 bits: every double in [0, 1) with that resolution.
  return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
}

int64_t fault_model::uniform(int64_t lo, int64_t hi) {
  // Modulo bias is below 2^-32 for the spans used here (at most hours in ms).
  auto span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(next() % span);
}

// -- messages -------------------------------------------------------------------

bool fault_model::rule_drops(server_id id, int64_t now_ms) const {
  auto i = opts_.rules.find(id);
  if (i == opts_.rules.end() || i->second.drop_after_ms < 0)
    return false;
  auto j = rule_set_at_ms_.find(id);
  auto since = j == rule_set_at_ms_.end() ? int64_t{0} : j->second;
  return now_ms >= since + i->second.drop_after_ms;
}

int64_t fault_model::rule_delay_ms(server_id to, msg_phase phase) const {
  auto i = opts_.rules.find(to);
  if (i == opts_.rules.end())
    return 0;
  auto& r = i->second;
  int64_t extra = -1;
  switch (phase) {
    case msg_phase::none:
      break;
    case msg_phase::prepare:
      extra = r.prepare_delay_ms;
      break;
    case msg_phase::accept:
      extra = r.accept_delay_ms;
      break;
    case msg_phase::commit:
      extra = r.commit_delay_ms;
      break;
  }
  return extra > 0 ? extra : 0;
}

void fault_model::count_drop(drop_reason reason) {
  ++counters_.dropped;
  switch (reason) {
    case drop_reason::none:
      break;
    case drop_reason::omission:
      ++counters_.dropped_omission;
      break;
    case drop_reason::partition:
      ++counters_.dropped_partition;
      break;
    case drop_reason::rule:
      ++counters_.dropped_rule;
      break;
    case drop_reason::random:
      ++counters_.dropped_random;
      break;
  }
}

route_decision fault_model::route(server_id from, server_id to,
                                  msg_phase phase, int64_t now_ms) {
  // Four draws, always, in this order (see the header).
  auto drop_coin = uniform01();
  auto delay = uniform(opts_.delay_min_ms, opts_.delay_max_ms);
  auto duplicate_coin = uniform01();
  auto duplicate_delay = uniform(opts_.delay_min_ms, opts_.delay_max_ms);
  route_decision d;
  if (faulty_ != 0 && (from == faulty_ || to == faulty_))
    d.dropped = drop_reason::omission;
  else if (partitioned(from, to))
    d.dropped = drop_reason::partition;
  else if (rule_drops(from, now_ms) || rule_drops(to, now_ms))
    d.dropped = drop_reason::rule;
  else if (drop_coin < opts_.drop_probability)
    d.dropped = drop_reason::random;
  if (d.dropped != drop_reason::none) {
    count_drop(d.dropped);
    return d;
  }
  // The destination's rule delays the phases it names.
  d.rule_delay_ms = rule_delay_ms(to, phase);
  if (d.rule_delay_ms > 0)
    ++counters_.rule_delayed;
  ++counters_.forwarded;
  d.delays_ms.push_back(delay + d.rule_delay_ms);
  if (duplicate_coin < opts_.duplicate_probability) {
    ++counters_.duplicated;
    d.delays_ms.push_back(duplicate_delay + d.rule_delay_ms);
  }
  return d;
}

// -- live servers and the omission fault ------------------------------------------

std::optional<omission_change> fault_model::pick_faulty(const char* why,
                                                        bool avoid_current) {
  auto candidates = live_servers();
  if (avoid_current && candidates.size() > 1)
    candidates.erase(std::remove(candidates.begin(), candidates.end(), faulty_),
                     candidates.end());
  server_id next_faulty = 0;
  if (!candidates.empty())
    next_faulty = candidates[static_cast<size_t>(
      uniform(0, static_cast<int64_t>(candidates.size()) - 1))];
  if (next_faulty == faulty_)
    return std::nullopt;
  omission_change c{faulty_, next_faulty, why};
  faulty_ = next_faulty;
  return c;
}

std::optional<omission_change> fault_model::server_up(server_id id) {
  live_[id] = true;
  if (opts_.omission && faulty_ == 0)
    return pick_faulty("server_up", false);
  return std::nullopt;
}

std::optional<omission_change> fault_model::server_down(server_id id) {
  auto i = live_.find(id);
  if (i == live_.end() || !i->second)
    return std::nullopt;
  i->second = false;
  if (faulty_ != id)
    return std::nullopt;
  // Never a dead faulty server: the fault moves on at once.
  faulty_ = 0;
  auto c = pick_faulty("server_down", false);
  if (!c)
    return omission_change{id, 0, "server_down"};
  c->before = id;
  return c;
}

std::optional<omission_change> fault_model::rotate() {
  if (!opts_.omission)
    return std::nullopt;
  return pick_faulty("rotation", true);
}

int64_t fault_model::next_rotation_ms() {
  return uniform(opts_.rotation_min_ms, opts_.rotation_max_ms);
}

// -- operator changes -------------------------------------------------------------

fault_result fault_model::check_server(server_id id) const {
  if (id == 0)
    return invalid("0 is not a server id");
  auto known = known_servers();
  if (!known.empty() && !std::binary_search(known.begin(), known.end(), id))
    return fault_refusal{true, "server " + std::to_string(id)
                                 + " is not in the cluster (servers: "
                                 + id_list(known) + ")"};
  return std::nullopt;
}

fault_result fault_model::set_rule(server_id id, const std::string& text,
                                   int64_t now_ms) {
  if (auto err = check_server(id))
    return err;
  try {
    auto rule = parse_rule(text);
    opts_.rules[id] = rule;
    rule_set_at_ms_[id] = now_ms;
  } catch (const std::invalid_argument& e) {
    return invalid(e.what());
  }
  return std::nullopt;
}

fault_result fault_model::clear_rule(server_id id) {
  if (auto err = check_server(id))
    return err;
  opts_.rules.erase(id);
  rule_set_at_ms_.erase(id);
  return std::nullopt;
}

fault_result fault_model::set_drop_probability(double p) {
  if (!(p >= 0 && p <= 1))
    return invalid("drop probability " + number(p) + " is not in [0, 1]");
  opts_.drop_probability = p;
  return std::nullopt;
}

fault_result fault_model::set_duplicate_probability(double p) {
  if (!(p >= 0 && p <= 1))
    return invalid("duplicate probability " + number(p) + " is not in [0, 1]");
  opts_.duplicate_probability = p;
  return std::nullopt;
}

fault_result fault_model::set_delay(uint32_t min_ms, uint32_t max_ms) {
  if (min_ms > max_ms)
    return invalid("delay minimum " + std::to_string(min_ms)
                   + " ms is above the maximum " + std::to_string(max_ms)
                   + " ms");
  if (max_ms > delay_max_ms_limit)
    return invalid("delay maximum " + std::to_string(max_ms)
                   + " ms is above the limit of "
                   + std::to_string(delay_max_ms_limit) + " ms");
  opts_.delay_min_ms = min_ms;
  opts_.delay_max_ms = max_ms;
  return std::nullopt;
}

fault_result fault_model::set_omission(bool on, uint32_t min_ms,
                                       uint32_t max_ms,
                                       std::optional<omission_change>& change) {
  change.reset();
  auto lo = opts_.rotation_min_ms;
  auto hi = opts_.rotation_max_ms;
  if (min_ms != 0 || max_ms != 0) {
    lo = min_ms;
    hi = max_ms;
  }
  if (lo > hi)
    return invalid("rotation minimum " + std::to_string(lo)
                   + " ms is above the maximum " + std::to_string(hi) + " ms");
  if (hi > rotation_max_ms_limit)
    return invalid("rotation maximum " + std::to_string(hi)
                   + " ms is above the limit of "
                   + std::to_string(rotation_max_ms_limit) + " ms");
  if (on && lo == 0)
    return invalid("the rotation time must be above 0 ms");
  opts_.rotation_min_ms = lo;
  opts_.rotation_max_ms = hi;
  opts_.omission = on;
  ++epoch_;
  if (on && faulty_ == 0) {
    change = pick_faulty("on", false);
  } else if (!on && faulty_ != 0) {
    change = omission_change{faulty_, 0, "off"};
    faulty_ = 0;
  }
  return std::nullopt;
}

fault_result fault_model::isolate(server_id id) {
  if (auto err = check_server(id))
    return err;
  auto& groups = opts_.partitions;
  for (auto& g : groups)
    g.erase(std::remove(g.begin(), g.end(), id), g.end());
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [](auto& g) { return g.empty(); }),
               groups.end());
  groups.push_back({id});
  return std::nullopt;
}

fault_result fault_model::split(const std::vector<server_id>& side) {
  if (side.empty())
    return invalid("a split needs at least one server on its side");
  std::set<server_id> ids;
  for (auto id : side) {
    if (auto err = check_server(id))
      return err;
    ids.insert(id);
  }
  auto known = known_servers();
  if (!known.empty()
      && std::all_of(known.begin(), known.end(),
                     [&](server_id id) { return ids.count(id) > 0; }))
    return invalid("a split of servers " + id_list(known)
                   + " leaves the other side empty");
  opts_.partitions = {std::vector<server_id>(ids.begin(), ids.end())};
  return std::nullopt;
}

void fault_model::heal() {
  opts_.partitions.clear();
}

void fault_model::all_off(std::optional<omission_change>& change) {
  change.reset();
  opts_.delay_min_ms = 0;
  opts_.delay_max_ms = 0;
  opts_.drop_probability = 0;
  opts_.duplicate_probability = 0;
  opts_.rules.clear();
  rule_set_at_ms_.clear();
  opts_.partitions.clear();
  if (opts_.omission || faulty_ != 0) {
    opts_.omission = false;
    ++epoch_;
    if (faulty_ != 0)
      change = omission_change{faulty_, 0, "off"};
    faulty_ = 0;
  }
}

// -- accessors ------------------------------------------------------------------

bool fault_model::live(server_id id) const {
  auto i = live_.find(id);
  return i != live_.end() && i->second;
}

std::vector<server_id> fault_model::live_servers() const {
  std::vector<server_id> xs;
  for (auto& [id, up] : live_)
    if (up)
      xs.push_back(id);
  return xs;
}

std::vector<server_id> fault_model::known_servers() const {
  if (!configured_.empty())
    return configured_;
  std::vector<server_id> xs;
  for (auto& [id, up] : live_)
    xs.push_back(id);
  return xs;
}

bool fault_model::partitioned(server_id a, server_id b) const {
  auto group_of = [this](server_id id) {
    auto& groups = opts_.partitions;
    for (size_t i = 0; i < groups.size(); ++i)
      if (std::find(groups[i].begin(), groups[i].end(), id) != groups[i].end())
        return static_cast<long>(i);
    return -1L;
  };
  return group_of(a) != group_of(b);
}

bool fault_model::any_fault() const {
  return opts_.delay_max_ms > 0 || opts_.drop_probability > 0
         || opts_.duplicate_probability > 0 || opts_.omission
         || !opts_.rules.empty() || !opts_.partitions.empty();
}

std::string fault_model::summary() const {
  std::vector<std::string> parts;
  if (opts_.delay_max_ms > 0)
    parts.push_back("delay " + std::to_string(opts_.delay_min_ms) + "-"
                    + std::to_string(opts_.delay_max_ms) + " ms");
  if (opts_.drop_probability > 0)
    parts.push_back("drop " + number(opts_.drop_probability));
  if (opts_.duplicate_probability > 0)
    parts.push_back("duplicate " + number(opts_.duplicate_probability));
  if (opts_.omission)
    parts.push_back("omission on (faulty: "
                    + (faulty_ == 0 ? std::string{"none"}
                                    : "server " + std::to_string(faulty_))
                    + ", moves every "
                    + duration(opts_.rotation_min_ms) + " to "
                    + duration(opts_.rotation_max_ms) + ")");
  for (auto& [id, rule] : opts_.rules)
    parts.push_back("rule " + std::to_string(id) + " " + to_string(rule));
  if (!opts_.partitions.empty()) {
    std::string s = "partition ";
    std::set<server_id> grouped;
    for (auto& g : opts_.partitions) {
      s += "{" + id_list(g) + "} | ";
      grouped.insert(g.begin(), g.end());
    }
    std::vector<server_id> rest;
    for (auto id : known_servers())
      if (grouped.count(id) == 0)
        rest.push_back(id);
    s += rest.empty() && !known_servers().empty() ? "{}"
         : rest.empty()                           ? "{the others}"
                                                  : "{" + id_list(rest) + "}";
    parts.push_back(s);
  }
  std::string out;
  for (auto& p : parts) {
    if (!out.empty())
      out += "; ";
    out += p;
  }
  if (out.empty())
    out = "no faults";
  out += "; forwarded " + std::to_string(counters_.forwarded) + ", dropped "
         + std::to_string(counters_.dropped) + ", duplicated "
         + std::to_string(counters_.duplicated);
  return out;
}

} // namespace cafchat
