#!/usr/bin/env python3
"""Writes tools/fuzzing/config.dict, the config harness's libFuzzer
dictionary: the sections and keys of the key table (node/config_keys.cpp)
and a few values. Run it after adding keys:

    tools/fuzzing/config_dict.py
"""
import os
import re

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
table = open(os.path.join(root, "node", "config_keys.cpp")).read()
# A row starts {"section", "key", default-or-nullptr, min, ...
rows = re.findall(r'\{"([a-z_]+)", "([a-z_]+)", (?:"[^"]*"|nullptr), [-0-9u]', table)
sections = sorted({s for s, _ in rows}) + ["nodes", "faults"]
lines = ["# libFuzzer dictionary of the config harness: the sections and keys of",
         "# node/config_keys.cpp, and some values (written by config_dict.py)."]
lines += [f'"[{s}]"' for s in sections]
lines += [f'"{k} = "' for _, k in rows]
for w in ["memory", "lmdb", "true", "false", "127.0.0.1:", "lb = ", "{id}",
          "none", "auto", "sharing", "stealing", "p:10::a:20::c:30", "d:0"]:
    lines.append(f'"{w}"')
with open(os.path.join(here, "config.dict"), "w") as out:
    out.write("\n".join(lines) + "\n")
print(f"config.dict: {len(sections)} sections, {len(rows)} keys")
