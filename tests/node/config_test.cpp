// The node configuration: every mistake names its key, and good files load.

#include <catch2/catch.hpp>

#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <sstream>

#include "node/config.hpp"
#include "node/config_keys.hpp"
#include "node/options.hpp"

using namespace cafchat;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "test.ini");
  } catch (config_error& e) {
    return e.what();
  }
  return "";
}

bool mentions(const std::string& err, const std::string& what) {
  return err.find(what) != std::string::npos;
}

std::string read_source(const std::string& path) {
  std::ifstream in{std::string{CAFCHAT_SOURCE_DIR} + "/" + path};
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string name_of(const config_key& k) {
  return std::string{"["} + k.section + "] " + k.key;
}

const config_key* find_key(const std::string& section, const std::string& key) {
  for (auto& k : config_keys())
    if (section == k.section && key == k.key)
      return &k;
  return nullptr;
}

/// A key of configs/single-host.ini: where, its value, the lines right above
/// it, and whether it is commented out.
struct documented_key {
  int line = 0;
  std::string section;
  std::string key;
  std::string value;
  std::string comment;
  bool commented_out = false;
};

/// A free-form section of configs/single-host.ini, shown commented out.
struct documented_section {
  int line = 0;
  std::string name;
  std::string comment;
};

/// Reads single-host.ini's documentation: the comment right above a key
/// is the paragraph of comment lines ending there (after a blank line, a
/// line of just ';', a section header or another key); the comment of a
/// commented-out section is the paragraph right under its header.
void read_documentation(const std::string& text, std::vector<documented_key>& keys,
                        std::vector<documented_section>& sections) {
  static const std::regex header{R"(^(; )?\[(\w+)\]$)"};
  static const std::regex key_line{R"(^(; )?(\w+) = (.*)$)"};
  std::istringstream in{text};
  std::string line;
  std::string section;
  std::string paragraph;
  documented_section* open = nullptr; // a commented-out header's paragraph
  int lineno = 0;
  auto end_paragraph = [&] {
    if (open != nullptr)
      open->comment = paragraph;
    open = nullptr;
    paragraph.clear();
  };
  while (std::getline(in, line)) {
    ++lineno;
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      end_paragraph();
      section = m[2];
      if (m[1].matched) {
        sections.push_back({lineno, section, ""});
        open = &sections.back();
      }
      continue;
    }
    bool commented = line.rfind(";", 0) == 0;
    if (std::regex_match(line, m, key_line)
        && (!m[1].matched || find_key(section, m[2]) != nullptr)) {
      keys.push_back({lineno, section, m[2], m[3], paragraph, m[1].matched});
      paragraph.clear();
      continue;
    }
    if (!commented || line == ";" || line.rfind(";  ", 0) == 0) {
      end_paragraph(); // blank, a paragraph break, or an indented example
      continue;
    }
    paragraph += (paragraph.empty() ? "" : " ") + line.substr(2);
  }
  end_paragraph();
}

} // namespace

TEST_CASE("config: the shipped configs load") {
  for (auto path : {"configs/single-host.ini"}) {
    INFO(path);
    std::string file = std::string(CAFCHAT_SOURCE_DIR) + "/" + path;
    auto c = load_config(file);
    CHECK(c.servers == std::vector<server_id>{1, 2, 3});
    CHECK(c.f == 1);
    CHECK(c.params.max_text_bytes == 4096);
    CHECK(c.params.proposer.heartbeat_ticks == 5);
    CHECK(c.params.proposer.election_ticks == 50);
    CHECK(c.sim.enabled); // on the path, forwarding only
    CHECK(c.sim.drop_probability == 0);
  }
}

TEST_CASE("config: configs/single-host.ini shows every key as the key table "
          "defines it") {
  std::vector<documented_key> keys;
  std::vector<documented_section> sections;
  read_documentation(read_source("configs/single-host.ini"), keys, sections);
  // Where this demo sets other values than the defaults (its comment says so).
  const std::map<std::string, std::string> demo_values = {
    {"[simulator] enabled", "true"},
  };
  std::map<std::string, int> seen;
  size_t last_row = 0;
  for (auto& d : keys) {
    INFO("configs/single-host.ini:" << d.line << ": [" << d.section << "] "
                                    << d.key);
    auto k = find_key(d.section, d.key);
    REQUIRE(k != nullptr);
    CHECK(seen[name_of(*k)]++ == 0);
    auto row = static_cast<size_t>(k - config_keys().data());
    CHECK(row >= last_row); // in the table's order
    last_row = row;
    CHECK(d.comment == k->help);
    if (d.commented_out) {
      // Only a key whose default is empty (which no file can write).
      REQUIRE(k->default_value != nullptr);
      CHECK(std::string{k->default_value}.empty());
    } else if (auto demo = demo_values.find(name_of(*k));
               demo != demo_values.end()) {
      CHECK(d.value == demo->second);
      CHECK(d.value != k->default_value);
    } else if (k->default_value != nullptr) {
      CHECK(d.value == k->default_value);
    }
  }
  for (auto& k : config_keys()) {
    INFO(name_of(k));
    CHECK(seen.count(name_of(k)) == 1);
  }
  for (auto& s : config_sections()) {
    INFO("[" << s.name << "]");
    auto d = std::find_if(sections.begin(), sections.end(),
                          [&](auto& x) { return x.name == s.name; });
    REQUIRE(d != sections.end());
    CHECK(d->comment == s.help);
  }
  CHECK(sections.size() == config_sections().size());
}

TEST_CASE("config: docs/operations.md lists every key as the key table has it") {
  auto doc = read_source("docs/operations.md");
  // On failure: build/bin/caf-config-doc --update docs/operations.md
  CHECK(with_config_keys(doc) == doc);
  CHECK(mentions(doc, "| `[paxos] heartbeat_ms` | `50` | 1 to 60000 ms |"));
  CHECK_THROWS_AS(with_config_keys("no markers"), std::invalid_argument);
}

TEST_CASE("config: docs/web.md gives the [web] keys' defaults of the key "
          "table") {
  std::istringstream doc{read_source("docs/web.md")};
  static const std::regex row{R"(^\| `(\w+)` \| ([^|]*) \|.*)"};
  std::string line;
  bool limits = false;
  int rows = 0;
  while (std::getline(doc, line)) {
    if (line.rfind("## ", 0) == 0)
      limits = line.rfind("## Limits (`[web]`", 0) == 0;
    std::smatch m;
    if (!limits || !std::regex_match(line, m, row))
      continue;
    INFO(line);
    auto k = find_key("web", m[1]);
    REQUIRE(k != nullptr);
    std::string def = m[2];
    CHECK((def == "(none)" ? std::string{} : def) == k->default_value);
    ++rows;
  }
  CHECK(rows == 5);
}

TEST_CASE("config: every key refuses values it does not take, naming it") {
  for (auto& k : config_keys()) {
    INFO(name_of(k));
    using whole32 = uint32_t* (*)(node_config&);
    using whole64 = uint64_t* (*)(node_config&);
    using whole_setter = void (*)(node_config&, uint64_t);
    using number = double* (*)(node_config&);
    std::vector<std::string> bad;
    if (!k.choices.empty())
      bad = {"bogus"};
    if (std::holds_alternative<bool* (*)(node_config&)>(k.target)
        || std::holds_alternative<void (*)(node_config&, bool)>(k.target))
      bad = {"maybe"};
    if (std::holds_alternative<whole32>(k.target)
        || std::holds_alternative<whole64>(k.target)
        || std::holds_alternative<whole_setter>(k.target)
        || std::holds_alternative<number>(k.target)) {
      bad = {"ten", std::to_string(k.max) + "1"};
      if (k.min > 0)
        bad.push_back(std::to_string(k.min - 1));
    }
    if (k.check != nullptr)
      bad.push_back("-1");
    // Free text (paths) takes anything.
    CHECK((!bad.empty() || k.values() == "path"));
    bool is_f = std::string{k.section} == "cluster" && std::string{k.key} == "f";
    for (auto& v : bad) {
      INFO("value " << v);
      std::string text = std::string{"["} + k.section + "]\n";
      if (std::string{k.section} != "cluster")
        text = "[cluster]\nf = 1\n" + text;
      else if (!is_f)
        text += "f = 1\n";
      text += std::string{k.key} + " = " + v + "\n";
      auto line = std::count(text.begin(), text.end(), '\n');
      CHECK(mentions(error_of(text), "test.ini:" + std::to_string(line) + ": "
                                       + name_of(k) + ": "));
    }
  }
}

TEST_CASE("config: whole-number keys fit their fields") {
  for (auto& k : config_keys()) {
    INFO(name_of(k));
    CHECK(k.min <= k.max);
    if (std::holds_alternative<uint32_t* (*)(node_config&)>(k.target))
      CHECK(k.max <= std::numeric_limits<uint32_t>::max());
    if (std::holds_alternative<double* (*)(node_config&)>(k.target))
      CHECK(k.max <= 1); // probabilities
    if (std::holds_alternative<void (*)(node_config&, uint64_t)>(k.target))
      CHECK(k.max <= std::numeric_limits<uint32_t>::max() / 1000);
  }
}

TEST_CASE("config: the roles' own defaults are a default configuration's") {
  auto c = parse_config("[cluster]\nf = 1\n", "x");
  server_params d;
  auto& p = c.params;
  CHECK(p.tick_ms == d.tick_ms);
  CHECK(p.max_text_bytes == d.max_text_bytes);
  CHECK(p.history_chunk == d.history_chunk);
  CHECK(p.check_invariants == d.check_invariants);
  CHECK(p.proposer.heartbeat_ticks == d.proposer.heartbeat_ticks);
  CHECK(p.proposer.election_ticks == d.proposer.election_ticks);
  CHECK(p.proposer.retry_ticks == d.proposer.retry_ticks);
  CHECK(p.proposer.timeout_max_ticks == d.proposer.timeout_max_ticks);
  CHECK(p.proposer.window == d.proposer.window);
  CHECK(p.proposer.batch_max == d.proposer.batch_max);
  CHECK(p.proposer.batch_bytes_max == d.proposer.batch_bytes_max);
  CHECK(p.proposer.pending_max == d.proposer.pending_max);
  CHECK(p.proposer.prevote == d.proposer.prevote);
  CHECK(p.proposer.seed == d.proposer.seed);
  CHECK(p.acceptor.learn_votes == d.acceptor.learn_votes);
  CHECK(p.acceptor.probe_ticks == d.acceptor.probe_ticks);
  CHECK(p.acceptor.probe_max_ticks == d.acceptor.probe_max_ticks);
  CHECK(p.acceptor.rejoin_lag_max == d.acceptor.rejoin_lag_max);
  CHECK(p.learner.catchup_ticks == d.learner.catchup_ticks);
  CHECK(p.learner.timeout_max_ticks == d.learner.timeout_max_ticks);
  CHECK(p.learner.catchup_max_slots == d.learner.catchup_max_slots);
  CHECK(p.learner.buffer_max == d.learner.buffer_max);
  CHECK(p.learner.check == d.learner.check);
  CHECK_NOTHROW(d.validate());
  web_settings w;
  CHECK(c.web.listen == w.listen);
  CHECK(c.web.max_frame_bytes == w.max_frame_bytes);
  CHECK(c.web.max_message_bytes == w.max_message_bytes);
  CHECK(c.web.max_connections == w.max_connections);
  CHECK(c.web.rate_per_s == w.rate_per_s);
  // sim_options' own defaults are a simulator that adds no delay (the
  // simulator's tests rely on it); a configured one delays 1-5 ms.
  sim_options s;
  CHECK(c.sim.enabled == s.enabled);
  CHECK(c.sim.seed == s.seed);
  CHECK(c.sim.drop_probability == s.drop_probability);
  CHECK(c.sim.duplicate_probability == s.duplicate_probability);
  CHECK(c.sim.omission == s.omission);
  CHECK(c.sim.rotation_min_ms == s.rotation_min_ms);
  CHECK(c.sim.rotation_max_ms == s.rotation_max_ms);
}

TEST_CASE("config: milliseconds become ticks, rounded up, in every role that "
          "follows them") {
  auto c = parse_config("[cluster]\nf = 1\n[paxos]\ntick_ms = 20\n"
                        "heartbeat_ms = 50\nelection_timeout_ms = 400\n"
                        "retry_ms = 60\ncatchup_ms = 70\n"
                        "timeout_max_ms = 2000\nbuffer_max = 100\n"
                        "check_invariants = true\nlearn = votes\n",
                        "x");
  auto& p = c.params;
  CHECK(p.servers == std::vector<server_id>{1, 2, 3});
  CHECK(p.proposer.heartbeat_ticks == 3);
  CHECK(p.proposer.election_ticks == 20);
  CHECK(p.proposer.retry_ticks == 3);
  CHECK(p.acceptor.probe_ticks == 3);
  CHECK(p.learner.catchup_ticks == 4);
  CHECK(p.proposer.timeout_max_ticks == 100);
  CHECK(p.acceptor.probe_max_ticks == 100);
  CHECK(p.learner.timeout_max_ticks == 100);
  CHECK(p.learner.buffer_max == 100);
  CHECK(p.acceptor.rejoin_lag_max == 100);
  CHECK(p.check_invariants);
  CHECK(p.learner.check);
  CHECK(p.acceptor.learn_votes);
  CHECK_NOTHROW(p.validate());
  // A setting several roles follow, set in one role only, is caught.
  p.acceptor.probe_ticks = 7;
  CHECK_THROWS_AS(p.validate(), std::logic_error);
}

TEST_CASE("config: validate() names the section and the keys to blame") {
  auto c = parse_config("[cluster]\nf = 1\n", "x");
  c.heartbeat_ms = 600;
  try {
    c.validate();
    FAIL("no error");
  } catch (config_key_error& e) {
    CHECK(e.section == "paxos");
    CHECK(e.keys == std::vector<std::string>{"heartbeat_ms",
                                             "election_timeout_ms"});
    CHECK(mentions(e.what(), "[paxos] heartbeat_ms: heartbeat_ms (600) must "
                             "be shorter than election_timeout_ms (500)"));
  }
  // In a file, the first of those keys that it sets is blamed, on its line.
  CHECK(mentions(error_of("[cluster]\nf = 1\n[paxos]\nwindow = 64\n"
                          "election_timeout_ms = 40\n"),
                 "test.ini:5: [paxos] election_timeout_ms: heartbeat_ms (50)"));
  CHECK(mentions(error_of("[cluster]\nf = 1\n[paxos]\nwindow = 8192\n"),
                 "test.ini:4: [paxos] window: buffer_max (4096) must be at "
                 "least window (8192)"));
}

TEST_CASE("config: f decides the number of servers") {
  auto c = parse_config("[cluster]\nf = 2\n", "x");
  CHECK(c.servers == std::vector<server_id>{1, 2, 3, 4, 5});
  c = parse_config("[cluster]\nf = 0\n", "x");
  CHECK(c.servers == std::vector<server_id>{1});
}

TEST_CASE("config: mistakes are refused with the file, line and key") {
  struct row {
    const char* text;
    const char* expect;
  };
  const row rows[] = {
    {"", "[cluster] f is missing"},
    {"[cluster]\nf = -1\n", "test.ini:2: [cluster] f: must be >= 0"},
    {"[cluster]\nf = one\n", "[cluster] f: expected a whole number, got 'one'"},
    {"[cluster]\nf = 1\n[paxos]\nhearbeat_ms = 5\n",
     "test.ini:4: unknown key 'hearbeat_ms' in [paxos]"},
    {"[cluster]\nf = 1\n[paxo]\n", "unknown section [paxo]"},
    {"[cluster]\nf = 1\n[paxos]\nheartbeat_ms = 600\nelection_timeout_ms = 500\n",
     "heartbeat_ms (600) must be shorter than election_timeout_ms (500)"},
    {"[cluster]\nf = 1\n[paxos]\nheartbeat_ms = 500\n",
     "heartbeat_ms (500) must be shorter than election_timeout_ms (500)"},
    {"[cluster]\nf = 1\n[paxos]\nheartbeat_ms =\n", "heartbeat_ms: missing value"},
    {"cluster {\n  f = 1\n}\n", "test.ini:1: brace syntax is not supported"},
    {"f = 1\n", "key 'f' is outside any [section]"},
    {"[cluster]\nf = 1\nf = 2\n", "key 'f' appears twice"},
    {"[cluster]\nf = 1\nstorage = disk\n",
     "[cluster] storage: expected one of memory, lmdb, got 'disk'"},
    {"[cluster]\nf = 1\n[paxos]\nprevote = maybe\n",
     "[paxos] prevote: expected true or false"},
    {"[cluster]\nf = 1\n[simulator]\ndrop_probability = 1.5\n",
     "drop_probability: must be between 0 and 1"},
    {"[cluster]\nf = 1\n[simulator]\ndelay_min_ms = 10\ndelay_max_ms = 5\n",
     "delay_min_ms: (10) is above delay_max_ms (5)"},
    {"[cluster]\nf = 1\n[tls]\nca = ca.pem\ncertificate = n.pem\n",
     "ca, certificate and key go together"},
    {"[cluster]\nf = 1\n[runtime]\nmax_frame_bytes = 1000000\n",
     "max_frame_bytes (1000000) must be at least twice batch_bytes_max"},
    {"[cluster]\nf = 1\n[runtime]\nmax_frame_bytes = 1000\n",
     "max_frame_bytes: must be between 65536 and"},
    {"[cluster]\nf = 1\n[limits]\nconnection_backlog_max_bytes = 1048576\n",
     "connection_backlog_max_bytes (1048576) must be at least max_frame_bytes "
     "(16777216)"},
    {"[cluster]\nf = 1\n[simulator]\nenabled = true\n[faults]\n7 = d:0\n",
     "[faults] 7: no such server"},
    {"[cluster]\nf = 1\n[simulator]\nenabled = true\n[faults]\n1 = x:3\n",
     "unknown phase 'x'"},
    {"[cluster]\nf = 1\n[faults]\n1 = d:0\n",
     "[faults] needs [simulator] enabled = true"},
    {"[nodes]\n1 = 127.0.0.1:7101\n2 = 127.0.0.1:7102\nlb = 127.0.0.1:7100\n",
     "a cluster needs an odd number"},
    {"[nodes]\n1 = 127.0.0.1:7101\n", "[nodes] has no 'lb' entry"},
    {"[nodes]\n1 = 127.0.0.1:99999\nlb = 127.0.0.1:7100\n",
     "port must be 1-65535"},
    {"[nodes]\nx = 127.0.0.1:7101\nlb = 127.0.0.1:7100\n",
     "a node id is a server number"},
    {"[nodes]\n1 = 127.0.0.1:7101\nlb = 127.0.0.1:7101\n",
     "is already used by another node"},
    {"[nodes]\n1 = 127.0.0.1:7101\nlb = 127.0.0.1:7100\n[cluster]\nf = 1\n",
     "[cluster] f: is 1 but [nodes] lists 1 servers"},
  };
  for (auto& r : rows) {
    INFO(r.text);
    auto err = error_of(r.text);
    CHECK(mentions(err, r.expect));
  }
}

TEST_CASE("config: comments, quotes and {id} expansion") {
  auto c = parse_config("; top\n[cluster]\nf = 1 ; inline\n"
                        "data_dir = \"data dir;x/{id}\"\n[log]\nevents = none\n",
                        "x");
  CHECK(c.data_dir == "data dir;x/{id}");
  CHECK(node_config::expand(c.data_dir, "3") == "data dir;x/3");
  CHECK(c.events.empty());
}

TEST_CASE("config: a multi-process cluster from [nodes]") {
  auto c = parse_config("[nodes]\n1 = 127.0.0.1:7101\n2 = 127.0.0.1:7102\n"
                        "3 = 10.0.0.3:7103\nlb = 127.0.0.1:7100\n",
                        "x");
  CHECK(c.distributed());
  CHECK(c.f == 1);
  CHECK(c.servers == std::vector<server_id>{1, 2, 3});
  CHECK(c.nodes.at("3").host == "10.0.0.3");
  CHECK(c.nodes.at("lb").port == 7100);
}

TEST_CASE("config: a missing file is an error naming it") {
  CHECK_THROWS_WITH(load_config("/nonexistent/x.ini"),
                    Catch::Contains("/nonexistent/x.ini: cannot read"));
}

TEST_CASE("config: fault rules: p:, a: and c: delays in seconds or ms, d: "
          "drops, parts joined by '::', and nothing else") {
  auto r = parse_rule("p:10::a:20::c:30");
  CHECK(r.prepare_delay_ms == 10000);
  CHECK(r.accept_delay_ms == 20000);
  CHECK(r.commit_delay_ms == 30000);
  CHECK(r.drop_after_ms == -1);
  CHECK(parse_rule("d:0").drop_after_ms == 0);
  CHECK(parse_rule("a:250ms").accept_delay_ms == 250);
  CHECK(to_string(parse_rule("p:10::a:250ms")) == "p:10::a:250ms");
  CHECK_THROWS_AS(parse_rule("p10"), std::invalid_argument);
  CHECK_THROWS_AS(parse_rule("p:ten"), std::invalid_argument);
  CHECK_THROWS_AS(parse_rule(""), std::invalid_argument);
}

TEST_CASE("config: command line, both --key value and --key=value") {
  auto parse = [](std::vector<std::string> args) {
    std::vector<char*> argv{const_cast<char*>("caf-node")};
    for (auto& a : args)
      argv.push_back(a.data());
    return parse_cli(static_cast<int>(argv.size()), argv.data(), true);
  };
  auto a = parse({"--config", "x.ini", "--output=jsonl", "--name", "bob"});
  CHECK(a.config == "x.ini");
  CHECK(a.jsonl);
  CHECK(a.name == "bob");
  auto b = parse({"--config=y.ini", "--drain-timeout", "2.5"});
  CHECK(b.config == "y.ini");
  CHECK(b.drain_timeout_s == 2.5);
  CHECK_THROWS_WITH(parse({"--config"}), Catch::Contains("--config needs a value"));
  CHECK_THROWS_WITH(parse({"--bogus=1", "--config=x"}),
                    Catch::Contains("unknown option --bogus"));
  CHECK_THROWS_WITH(parse({"--output=xml", "--config=x"}),
                    Catch::Contains("--output must be jsonl or text"));
  CHECK_THROWS_WITH(parse({}), Catch::Contains("--config FILE is required"));
}

TEST_CASE("config: command line, --history with or without an index, and "
          "--no-history") {
  auto parse = [](std::vector<std::string> args) {
    std::vector<char*> argv{const_cast<char*>("caf-chat")};
    for (auto& a : args)
      argv.push_back(a.data());
    return parse_cli(static_cast<int>(argv.size()), argv.data(), false);
  };
  auto none = parse({"--config", "x.ini"});
  CHECK(!none.history);
  CHECK(!none.no_history);
  auto whole = parse({"--history", "--config", "x.ini"});
  CHECK(whole.history);
  CHECK(whole.history_from == 1);
  CHECK(whole.config == "x.ini");
  auto last = parse({"--config", "x.ini", "--history"});
  CHECK(last.history);
  CHECK(last.history_from == 1);
  CHECK(parse({"--history", "5000", "--config=x"}).history_from == 5000);
  CHECK(parse({"--history=7", "--config=x"}).history_from == 7);
  CHECK(parse({"--no-history", "--config=x"}).no_history);
  for (auto bad : {"0", "-3", "ten", "5x"})
    CHECK_THROWS_WITH(parse({"--config=x", "--history", bad}),
                      Catch::Contains("--history takes the index to start "
                                      "from (1 or more), not '"
                                      + std::string{bad} + "'"));
  CHECK_THROWS_WITH(parse({"--config=x", "--history="}),
                    Catch::Contains("--history takes the index"));
}
