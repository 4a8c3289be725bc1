#pragma once

// The network-fault simulator's core: no CAF, no clock. It decides the fate
// of every peer message (dropped, or delivered once or twice after some
// delay), which server is omission-faulty, and which changes an operator may
// make. The simulator actor (simulator.hpp) classifies payloads, keeps the
// timers and monitors, and sends what this core decides.
//
//   route(from, to, phase, now)
//     from or to is the omission-faulty server      -> drop (omission)
//     a partition separates from and to             -> drop (partition)
//     a d:N rule of from or to is N ms old or more  -> drop (rule)
//     coin < drop_probability                       -> drop (random)
//     otherwise deliver after U[delay_min, delay_max] + rule delay of `to`
//     for `phase`, and with duplicate_probability once more after its own
//     U[delay_min, delay_max] + the same rule delay
//
// Every random number comes from one std::mt19937_64 seeded with
// sim_options::seed, turned into numbers by this file's own arithmetic (not
// the <random> distributions, whose output differs between standard
// libraries), so a seed names the same run everywhere. route() always draws
// four numbers, whatever it decides, so a change of the deterministic faults
// (rules, partitions, the faulty server) does not shift the random schedule
// of later messages.

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/simulator/sim_options.hpp"

namespace cafchat {

/// Why a message was dropped; `none` if it was not.
enum class drop_reason : uint8_t { none, omission, partition, rule, random };

const char* to_string(drop_reason x);

/// What happens to one message.
struct route_decision {
  drop_reason dropped = drop_reason::none;
  /// Delay of each copy in ms: empty if dropped, two entries if duplicated.
  std::vector<int64_t> delays_ms;
  /// The part of every delay that the destination's rule added (0 if none).
  int64_t rule_delay_ms = 0;
};

/// The omission-faulty server changed from `before` to `after` (0: none).
struct omission_change {
  server_id before = 0;
  server_id after = 0;
  const char* why = ""; ///< "on", "off", "rotation", "server_up", "server_down".
};

struct fault_counters {
  uint64_t forwarded = 0;  ///< Messages let through (a duplicate counts once).
  uint64_t duplicated = 0; ///< Extra copies delivered.
  uint64_t dropped = 0;    ///< All drops; by reason below.
  uint64_t dropped_omission = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_rule = 0;
  uint64_t dropped_random = 0;
  uint64_t rule_delayed = 0; ///< Messages a per-phase rule delayed.
};

/// Why an operator's change was refused; the actor turns it into a
/// cafchat error.
struct fault_refusal {
  bool unknown_server = false; ///< Else: invalid input.
  std::string why;
};

/// The result of a change: nothing (accepted) or a refusal.
using fault_result = std::optional<fault_refusal>;

class fault_model {
public:
  /// Caps on operator input: one hour of delay, a day of rotation.
  static constexpr uint32_t delay_max_ms_limit = 3600000;
  static constexpr uint32_t rotation_max_ms_limit = 86400000;

  /// `opts` must be valid (sim_options::validate). `servers` lists the
  /// configured server ids; empty if unknown, and then the ids announced so
  /// far are the known ones. Rules in `opts` count as set at `now_ms`.
  fault_model(sim_options opts, std::vector<server_id> servers,
              int64_t now_ms);

  // -- messages --------------------------------------------------------------

  /// Decides the fate of one message from server `from` to server `to`.
  route_decision route(server_id from, server_id to, msg_phase phase,
                       int64_t now_ms);

  // -- live servers and the omission fault ------------------------------------

  /// A server (re)started. May make it the faulty server, if none is.
  std::optional<omission_change> server_up(server_id id);
  /// A server went down. If it was the faulty one, another live server
  /// becomes faulty at once.
  std::optional<omission_change> server_down(server_id id);

  /// Moves the omission fault to another live server, chosen at random (the
  /// same one only if it is the only live server). Nothing if omission is off.
  std::optional<omission_change> rotate();
  /// Random time until the next rotation, in [rotation_min_ms,
  /// rotation_max_ms].
  int64_t next_rotation_ms();
  /// Grows whenever the omission setting changes, so the actor can ignore
  /// the rotation timers of an older setting.
  uint64_t rotation_epoch() const { return epoch_; }

  // -- operator changes (nothing changes when refused) -------------------------

  fault_result set_rule(server_id id, const std::string& text, int64_t now_ms);
  fault_result clear_rule(server_id id);
  fault_result set_drop_probability(double p);
  fault_result set_duplicate_probability(double p);
  fault_result set_delay(uint32_t min_ms, uint32_t max_ms);
  /// Omission on or off; with both bounds 0 the rotation range stays. May
  /// change the faulty server (`change`).
  fault_result set_omission(bool on, uint32_t min_ms, uint32_t max_ms,
                            std::optional<omission_change>& change);
  /// Cuts `id` off from every other server (on top of other partitions).
  fault_result isolate(server_id id);
  /// `side` on one side, every other server on the other; replaces every
  /// partition.
  fault_result split(const std::vector<server_id>& side);
  /// Removes every partition.
  void heal();
  /// No faults at all: no delay, drop, duplicate, omission, rule or
  /// partition. The seed and the counters stay.
  void all_off(std::optional<omission_change>& change);

  // -- accessors -------------------------------------------------------------

  const sim_options& options() const { return opts_; }
  const fault_counters& counters() const { return counters_; }
  server_id faulty() const { return faulty_; }
  bool live(server_id id) const;
  std::vector<server_id> live_servers() const;
  /// Configured ids, else the ids announced so far.
  std::vector<server_id> known_servers() const;
  /// Whether a partition separates `a` and `b`.
  bool partitioned(server_id a, server_id b) const;
  /// Whether any fault is set (a delay counts).
  bool any_fault() const;
  /// One line for humans: every fault that is set, the faulty server, the
  /// counters; "no faults" when none is set.
  std::string summary() const;

private:
  uint64_t next() { return rng_(); }
  double uniform01();                         ///< [0, 1)
  int64_t uniform(int64_t lo, int64_t hi);    ///< [lo, hi]
  fault_result check_server(server_id id) const;
  /// Whether a d:N rule of `id` drops its traffic at `now_ms`.
  bool rule_drops(server_id id, int64_t now_ms) const;
  /// The extra delay that the rule of `to` gives messages of `phase`.
  int64_t rule_delay_ms(server_id to, msg_phase phase) const;
  void count_drop(drop_reason reason);
  std::optional<omission_change> pick_faulty(const char* why, bool avoid_current);

  sim_options opts_;
  std::vector<server_id> configured_;
  std::mt19937_64 rng_;
  std::map<server_id, int64_t> rule_set_at_ms_; ///< For d:N rules.
  std::map<server_id, bool> live_;              ///< Every announced server.
  server_id faulty_ = 0;
  uint64_t epoch_ = 0;
  fault_counters counters_;
};

} // namespace cafchat
