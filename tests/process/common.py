"""Shared helpers for the process tests: locate binaries, run with bounded
timeouts, parse JSON-lines output."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args, _ = ap.parse_known_args()
    return args


def binary(build, name):
    path = os.path.join(os.path.abspath(build), "bin", name)
    if not os.path.exists(path):
        sys.exit(f"missing {path}: build first (tools/build)")
    return path


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# The --output jsonl contract, key by key in the order the lines have them
# (scripts read them: a key renamed, dropped or moved fails here).
MESSAGE_KEYS = ["index", "slot", "from", "seq", "text", "client", "time"]
EVENT_KEYS = {"status": ["event", "ready", "servers"],
              "who": ["event", "clients"],
              "history": ["event", "count"]}
STATUS_SERVER_KEYS = ["id", "alive", "role", "ballot", "leader", "chosen_upto",
                      "delivered_upto", "history", "clients", "acceptor",
                      "waiting", "timeout_ms", "peers"]
WHO_CLIENT_KEYS = ["client", "name", "server"]
ROLES = {"follower", "precandidate", "candidate", "leader", "down",
         "unregistered", "unreachable", "sequencer"}
ACCEPTOR_STATES = {"", "voting", "rejoining"}
# The first keys of every event-log line that caf-node writes.
EVENT_LOG_KEYS = ["t", "ts", "server", "event"]


def compact(obj):
    """`obj` as cafchat writes a JSON line: no spaces, keys in order, UTF-8
    as is, and only what JSON must escape escaped (\\b, \\n, \\u001f)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def check_shape(obj, line, where):
    """One --output jsonl line against the contract above."""
    check(compact(obj) == line,
          f"{where}: not the compact JSON cafchat writes: {line!r}")
    keys = list(obj)
    if "event" not in obj:
        check(keys == MESSAGE_KEYS, f"{where}: message keys {keys}")
        check(all(isinstance(obj[k], int) for k in ("index", "slot", "seq", "client"))
              and isinstance(obj["from"], str) and isinstance(obj["text"], str),
              f"{where}: message field types: {line!r}")
        return
    check(keys[0] == "event", f"{where}: 'event' is not the first key: {line!r}")
    want = EVENT_KEYS.get(obj["event"])
    if want is not None:
        check(keys == want, f"{where}: {obj['event']} keys {keys}")
    else:
        check("detail" not in keys or keys[-1] == "detail",
              f"{where}: 'detail' is not the last key: {line!r}")
    for s in obj.get("servers", []) if obj["event"] == "status" else []:
        check(list(s) == STATUS_SERVER_KEYS, f"{where}: status keys {list(s)}")
        check(s["role"] in ROLES, f"{where}: role {s['role']!r}")
        check(s["acceptor"] in ACCEPTOR_STATES, f"{where}: acceptor {s['acceptor']!r}")
        check(isinstance(s["ballot"], list) and len(s["ballot"]) == 2,
              f"{where}: ballot {s['ballot']!r}")
    for c in obj.get("clients", []) if obj["event"] == "who" else []:
        check(list(c) == WHO_CLIENT_KEYS, f"{where}: who keys {list(c)}")


def json_lines(text, where):
    """Every stdout line must be a JSON object (the --output jsonl contract),
    with the keys, in the order, and in the form of check_shape."""
    out = []
    # Lines end at "\n" only: str.splitlines() would also cut at U+2028,
    # which JSON leaves unescaped inside strings.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError:
            raise Failure(f"{where}: stdout line {n} is not JSON: {line!r}")
        check(isinstance(obj, dict), f"{where}: line {n} is not an object")
        check_shape(obj, line, f"{where} line {n}")
        out.append(obj)
    return out


def event_log(path):
    """The lines of a caf-node event log, each checked: compact JSON whose
    first keys are t, ts, server and event."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            where = f"{os.path.basename(path)} line {n}"
            try:
                obj = json.loads(line)
            except ValueError:
                raise Failure(f"{where} is not JSON: {line!r}")
            check(compact(obj) == line, f"{where}: not compact JSON: {line!r}")
            check(list(obj)[:4] == EVENT_LOG_KEYS, f"{where}: first keys {list(obj)[:4]}")
            out.append(obj)
    return out


def messages(objs):
    return [o for o in objs if "event" not in o]


def events(objs, name=None):
    return [o for o in objs if "event" in o and (name is None or o["event"] == name)]


def run_tests(tests):
    failed = 0
    for t in tests:
        name = t.__name__.replace("test_", "").replace("_", " ")
        try:
            t()
            print(f"  ok    {name}", flush=True)
        except Failure as e:
            failed += 1
            print(f"  FAIL  {name}: {e}", flush=True)
        except subprocess.TimeoutExpired as e:
            failed += 1
            print(f"  FAIL  {name}: timed out: {e}", flush=True)
    if failed:
        sys.exit(f"{failed} process test(s) failed")


def workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
