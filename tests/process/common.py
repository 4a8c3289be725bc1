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


def json_lines(text, where):
    """Every stdout line must be a JSON object (the --output jsonl contract)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            obj = json.loads(line)
        except ValueError:
            raise Failure(f"{where}: stdout line {n} is not JSON: {line!r}")
        check(isinstance(obj, dict), f"{where}: line {n} is not an object")
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
