#!/usr/bin/env python3
"""Many short caf-chat clients at once against a multi-process cluster: every
line each one prints on stdout with --output jsonl is a JSON object, to the
very end (a client once printed a plain-text line at exit: its printer was
gone while its client actor still delivered entries), and every client sees
its own lines delivered. tools/asan runs this test against an ASan build."""

import concurrent.futures
import json
import os
import subprocess

from cluster import with_cluster
from common import Failure, check, parse_args, run_tests

ARGS = parse_args()


def run_client(c, name, lines):
    p = subprocess.run([os.path.join(c.bin, "caf-chat"), "--config", c.config,
                        "--name", name, "--output", "jsonl",
                        "--drain-timeout", "60"],
                       input="\n".join(lines).encode() + b"\n",
                       capture_output=True, cwd=c.dir, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def test_many_short_clients_print_only_json():
    def body(c):
        # Three rounds of ten clients at once, each sending five lines and
        # leaving as soon as they are delivered, while the others still chat.
        for rnd in range(3):
            jobs = {}
            with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
                for k in range(10):
                    name = f"c{rnd}x{k}"
                    lines = [f"{name} line {i}" for i in range(5)]
                    jobs[name] = (lines, ex.submit(run_client, c, name, lines))
            for name, (lines, fut) in jobs.items():
                rc, out, err = fut.result()
                check(rc == 0, f"{name} exit {rc}: {err[-400:]}")
                mine = []
                for n, line in enumerate(out.splitlines(), 1):
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        raise Failure(f"{name} stdout line {n} is not JSON: "
                                      f"{line!r}")
                    check(isinstance(obj, dict),
                          f"{name} stdout line {n} is not an object: {line!r}")
                    if "event" not in obj and obj.get("from") == name:
                        mine.append(obj["text"])
                check(mine == lines, f"{name} saw {mine}, sent {lines}")
    with_cluster(ARGS.build, body, prefix="cafchat-clients-")


if __name__ == "__main__":
    run_tests([test_many_short_clients_print_only_json])
