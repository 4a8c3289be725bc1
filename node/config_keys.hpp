#pragma once

// Every key of the node configuration, defined once: its section, default,
// bounds and unit, what it means, and where its value goes in node_config.
// parse_config (node/config.cpp) reads files through this table,
// caf-config-doc prints it into docs/operations.md, and
// tests/node/config_test.cpp checks that configs/single-host.ini documents
// every key exactly as the table does.
//
// Adding a key: a field for it (in node_config, or in a role's options that
// server_params holds), a row below in node/config_keys.cpp, its cross-key
// checks in node_config::validate(), its comment and default in
// configs/single-host.ini, and `caf-config-doc --update docs/operations.md`.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace cafchat {

struct node_config;

/// Where a key's value goes: a field of node_config (named by a function
/// that returns its address), or a setter for a value that is converted or
/// that more than one role follows.
using key_target = std::variant<
  uint32_t* (*)(node_config&), uint64_t* (*)(node_config&),
  double* (*)(node_config&), bool* (*)(node_config&),
  std::string* (*)(node_config&), void (*)(node_config&, uint64_t),
  void (*)(node_config&, bool), void (*)(node_config&, const std::string&)>;

struct config_key {
  const char* section;
  const char* key;
  /// The default as written in an INI file; nullptr: none (required).
  const char* default_value;
  /// Bounds of a number (whole numbers; probabilities are 0 to 1).
  uint64_t min;
  uint64_t max;
  /// Unit of a number ("ms", "s", "bytes", ...), or what a text is ("path").
  const char* unit;
  /// What the key means: the comment above it in configs/single-host.ini.
  const char* help;
  key_target target;
  /// The values a text key takes (empty: any).
  std::vector<const char*> choices = {};
  /// Checks a value before it is converted; throws std::invalid_argument.
  void (*check)(const std::string&) = nullptr;

  /// Converts `text` by this key's rules and stores it in `c`; throws
  /// std::invalid_argument saying what is wrong with the value.
  void apply(const std::string& text, node_config& c) const;
  /// The values it takes, for people: "1 to 60000 ms", "memory or lmdb".
  std::string values() const;
};

/// A section whose keys are ids ([nodes], [faults]); node/config.cpp reads
/// each with its own parser.
struct config_section {
  const char* name;
  const char* key;   ///< What a key is, e.g. "<server id>".
  const char* value; ///< What a value is, e.g. "<host>:<port>".
  const char* help;  ///< The comment under its header in single-host.ini.
};

/// Every key, in the order of configs/single-host.ini.
const std::vector<config_key>& config_keys();

/// The sections of free-form keys.
const std::vector<config_section>& config_sections();

/// Both tables as Markdown: the key list in docs/operations.md.
std::string config_keys_markdown();

/// `doc` with the text between its lines "<!-- config keys: begin ... -->"
/// and "<!-- config keys: end -->" replaced by config_keys_markdown();
/// throws std::invalid_argument if it has no such lines.
std::string with_config_keys(const std::string& doc);

} // namespace cafchat
