// Writes the seed corpus of the messages and storage harnesses:
//
//   build-fuzz/bin/fuzz-seeds tools/fuzzing/corpus   (tools/fuzz seeds)
//
// messages: every type the registry knows, default-constructed (so a newly
// registered type gets a seed), real values of the main ones, and whole
// caf::messages as BASP carries them. storage: one record of each kind.
// Each file is named after what it holds. The config, faults and shell seeds
// are text, written by hand.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/message.hpp"

#include "messages/client.hpp"
#include "messages/control.hpp"
#include "messages/paxos.hpp"
#include "messages/registry.hpp"
#include "storage_records.hpp"

using namespace cafchat;
using namespace cafchat::fuzzing;

namespace {

struct seed_config : caf::actor_system_config {
  seed_config() {
    cafchat::add_message_types(*this);
    set("scheduler.max-threads", 1);
  }
};

void write(const std::string& path, char first, const std::vector<char>& body) {
  std::ofstream out{path, std::ios::binary};
  out.put(first);
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz-seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::string file_name(std::string name) {
  if (name.rfind("cafchat::", 0) == 0)
    name = name.substr(9);
  return name;
}

const command c1{42, 7, "alice", "hello, world \xc3\xa9"};
const command c2{43, 1, "bob", "hi"};
const value batch = value::of({c1, c2}, 1738314902137);

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-seeds CORPUS_DIR\n");
    return 2;
  }
  std::string root = argv[1];
  seed_config cfg;
  caf::actor_system sys{cfg};
  std::vector<std::string> names;
  for (auto& kvp : cfg.value_factories_by_name)
    if (kvp.first.rfind("cafchat::", 0) == 0)
      names.push_back(kvp.first);
  std::sort(names.begin(), names.end());
  auto index = [&](const std::string& name) {
    auto i = std::find(names.begin(), names.end(), name);
    if (i == names.end()) {
      std::fprintf(stderr, "fuzz-seeds: %s is not registered\n", name.c_str());
      std::exit(1);
    }
    return static_cast<char>(i - names.begin());
  };
  auto dir = root + "/messages/";
  // Every registered type, default-constructed.
  for (auto& name : names) {
    auto x = cfg.value_factories_by_name[name]();
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (x->save(sink)) {
      std::fprintf(stderr, "fuzz-seeds: %s does not encode\n", name.c_str());
      return 1;
    }
    write(dir + file_name(name) + ".empty", index(name), buf);
  }
  // Real values, as one element of a message (how BASP carries them).
  auto sample = [&](const std::string& name, caf::message msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (msg.save(0, sink)) {
      std::fprintf(stderr, "fuzz-seeds: %s does not encode\n", name.c_str());
      std::exit(1);
    }
    write(dir + file_name(name), index(name), buf);
  };
  sample("cafchat::prepare", caf::make_message(prepare{{3, 2}, 17, 901}));
  sample("cafchat::promise",
         caf::make_message(promise{{3, 2}, 1, 17,
                                   {{17, {2, 1}, batch}, {19, {1, 3}, value::noop()}},
                                   4, {{2, 1}, {3, 7}}, 901}));
  sample("cafchat::accept", caf::make_message(accept{{3, 2}, 18, batch, 902}));
  sample("cafchat::decide", caf::make_message(decide{18, batch}));
  sample("cafchat::catchup_reply",
         caf::make_message(catchup_reply{2, {{10, batch}, {11, value::noop()}},
                                         11, 905}));
  sample("cafchat::rejoin_reply",
         caf::make_message(rejoin_reply{2, {9, 1}, 5, true, {9, 1}, 4, 0,
                                        {{121, {3, 2}, batch}}, {{1, 5}, {3, 2}}}));
  sample("cafchat::submit", caf::make_message(submit{{c1, c2}}));
  sample("cafchat::hello", caf::make_message(hello{42, "alice", 7, {}}));
  sample("cafchat::sim_control",
         caf::make_message(sim_control{sim_action::set_rule, 2,
                                       "p:10::a:20::c:30", 0, 0, 0, false, {}}));
  sample("cafchat::sim_report",
         caf::make_message(sim_report{7, 10, 50, 0.2, 0.05, true, 180000,
                                      300000, 2, {{1, "p:10"}, {3, "d:0"}},
                                      {{1}, {2, 3}}, {1, 2, 3}, 100, 20, 5,
                                      "delay 10-50 ms"}));
  sample("cafchat::routed",
         caf::make_message(routed{1, 2, {}, caf::make_message(
                                               accept{{3, 2}, 18, batch, 902})}));
  // Whole messages, as a BASP frame's payload: type names, then values.
  auto whole = static_cast<char>(0xff); // messages.cpp: whole_message_byte
  auto message = [&](const std::string& file, caf::message msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (sink(msg)) {
      std::fprintf(stderr, "fuzz-seeds: %s does not encode\n", file.c_str());
      std::exit(1);
    }
    write(dir + "message." + file, whole, buf);
  };
  message("prepare", caf::make_message(prepare{{3, 2}, 17, 901}));
  message("atom_and_accept",
          caf::make_message(caf::atom("accept"), accept{{3, 2}, 18, batch, 902}));
  message("routed_decide",
          caf::make_message(routed{1, 2, {}, caf::make_message(decide{18, batch})}));
  message("string_and_u64", caf::make_message(std::string{"status"}, uint64_t{7}));
  // The storage records.
  dir = root + "/storage/";
  auto record = [&](storage_record r, const std::vector<char>& body) {
    write(dir + storage_record_names[static_cast<int>(r)],
          static_cast<char>(r), body);
  };
  {
    auto meta = encode(lmdb_meta{lmdb_meta::format_name,
                                 lmdb_meta::format_version, 2});
    std::vector<char> body{2, 0, 0, 0}; // server id 2, little-endian
    body.insert(body.end(), meta.begin(), meta.end());
    record(storage_record::meta, body);
  }
  record(storage_record::promise, encode(ballot{7, 3}));
  record(storage_record::acceptor_meta,
         encode(acceptor_meta{true, 4, {{1, 5}, {3, 2}}, 120}));
  record(storage_record::accepted, encode(accepted_slot{5, {2, 1}, batch}));
  record(storage_record::u64, encode(uint64_t{901}));
  record(storage_record::decided, encode(decide{18, batch}));
  record(storage_record::history,
         encode(chat_entry{12, 9, 42, 7, "alice", "hi", 1738314902137}));
  record(storage_record::key, {0, 0, 0, 0, 0, 0, 0x01, 0x02});
  return 0;
}
