#!/usr/bin/env python3
"""The benchmark programs as a script uses them: caf-bench's --json contract
in one process and against a running multi-process cluster, its errors, and
caf-rtt. These check that the tools work and report what they promise, never
how fast anything is (that is for docs/performance.md)."""

import json
import os
import shutil
import subprocess

from cluster import Cluster
from common import (ROOT, Failure, binary, check, parse_args, run_tests,
                    workdir)

ARGS = parse_args()
BENCH = binary(ARGS.build, "caf-bench")
RTT = binary(ARGS.build, "caf-rtt")
# The --json contract, key by key in order (tools/bench-matrix and
# tools/bench-cluster read it).
KEYS = ["commits_per_s", "deliveries_per_s", "latency_ms",
        "baseline_commits_per_s", "baseline_deliveries_per_s",
        "baseline_latency_ms", "peak_rss_mb", "clients", "window", "payload",
        "duration_s", "storage", "mode", "servers"]
LATENCY_KEYS = ["p50", "p90", "p99", "p999"]
RTT_KEYS = ["policy", "threads", "workers", "p50_us", "p90_us", "p99_us",
            "round_trips_per_s"]


def bench(config, *extra, cwd=None, timeout=120):
    return subprocess.run([BENCH, "--config", config, "--json", *extra],
                          capture_output=True, cwd=cwd, timeout=timeout)


def one_object(p):
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()}")
    lines = p.stdout.decode().splitlines()
    check(len(lines) == 1, f"--json printed {len(lines)} lines")
    try:
        obj = json.loads(lines[0])
    except ValueError:
        raise Failure(f"not JSON: {lines[0]!r}")
    check(list(obj) == KEYS, f"keys {list(obj)}")
    check(list(obj["latency_ms"]) == LATENCY_KEYS
          and list(obj["baseline_latency_ms"]) == LATENCY_KEYS,
          f"latency keys: {obj}")
    check(all(isinstance(obj[k], (int, float)) for k in KEYS
              if k not in ("latency_ms", "baseline_latency_ms", "storage", "mode")),
          f"a number is not a number: {obj}")
    lat = obj["latency_ms"]
    check([lat[k] for k in ("p50", "p90", "p99", "p999")]
          == sorted(lat[k] for k in ("p50", "p90", "p99", "p999")),
          f"percentiles out of order: {lat}")
    return obj


def test_bench_json_in_one_process_with_baseline():
    obj = one_object(bench(os.path.join(ROOT, "configs", "bench-memory.ini"),
                           "--clients", "3", "--window", "4", "--duration",
                           "1", "--warmup", "0.5"))
    check(obj["commits_per_s"] > 0, "no commits")
    check(obj["baseline_commits_per_s"] > 0, "no baseline commits")
    # Every client is subscribed: each commit reaches all three.
    check(obj["deliveries_per_s"] >= 2 * obj["commits_per_s"],
          f"deliveries {obj['deliveries_per_s']} for {obj['commits_per_s']} "
          f"commits with 3 subscribed clients")
    check(obj["latency_ms"]["p50"] > 0, "zero latency")
    check(obj["peak_rss_mb"] > 0, "no peak memory")
    check(obj["clients"] == 3 and obj["window"] == 4
          and obj["mode"] == "one-process", f"settings echoed wrong: {obj}")


def test_bench_drives_a_running_cluster():
    wd = workdir("cafchat-bench-")
    c = Cluster(ARGS.build, wd, storage="memory")
    try:
        c.start_all()
        c.wait(lambda: c.leader() is not None, 30, "a leader")
        obj = one_object(bench(c.config, "--clients", "2", "--window", "8",
                               "--duration", "1", "--warmup", "0.5",
                               "--no-baseline", cwd=wd))
        check(obj["mode"] == "processes", f"mode {obj['mode']}")
        check(obj["commits_per_s"] > 0, "no commits against the nodes")
        check(obj["baseline_commits_per_s"] == 0, "baseline ran despite "
              "--no-baseline")
    finally:
        c.stop_all()
        shutil.rmtree(wd, ignore_errors=True)


def test_bench_errors_are_clear():
    p = subprocess.run([BENCH, "--clients", "0", "--config", "x.ini"],
                       capture_output=True, timeout=30)
    check(p.returncode == 2 and b"bad value for --clients: '0'" in p.stderr,
          f"--clients 0: exit {p.returncode}, {p.stderr!r}")
    p = subprocess.run([BENCH, "--clients"], capture_output=True, timeout=30)
    check(p.returncode == 2 and b"bad value for --clients" in p.stderr,
          f"--clients without a value: exit {p.returncode}, {p.stderr!r}")
    p = subprocess.run([BENCH, "--speed", "9"], capture_output=True, timeout=30)
    check(p.returncode == 2 and b"unknown argument --speed" in p.stderr,
          f"unknown flag: exit {p.returncode}, {p.stderr!r}")
    p = bench(os.path.join(ROOT, "configs", "bench-memory.ini"), "--payload",
              "100000", timeout=30)
    check(p.returncode == 2 and b"max_text_bytes" in p.stderr,
          f"oversize payload: exit {p.returncode}, {p.stderr!r}")
    wd = workdir("cafchat-bench-")
    try:
        c = Cluster(ARGS.build, wd, storage="memory")  # config only, no nodes
        p = bench(c.config, "--duration", "1", cwd=wd, timeout=60)
        check(p.returncode == 1 and b"no load balancer" in p.stderr,
              f"no cluster running: exit {p.returncode}, {p.stderr!r}")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_rtt_measures_round_trips_and_exits_cleanly():
    for policy in ("sharing", "stealing"):
        p = subprocess.run([RTT, "--count", "300", "--policy", policy,
                            "--threads", "2", "--json"],
                           capture_output=True, timeout=60)
        check(p.returncode == 0, f"caf-rtt {policy}: exit {p.returncode} "
              f"{p.stderr.decode()}")
        obj = json.loads(p.stdout.decode())
        check(list(obj) == RTT_KEYS, f"caf-rtt keys {list(obj)}")
        check(0 < obj["p50_us"] <= obj["p90_us"] <= obj["p99_us"],
              f"percentiles: {obj}")
        check(obj["policy"] == policy, f"policy echoed: {obj}")
    p = subprocess.run([RTT, "--raw", "--count", "300", "--json"],
                       capture_output=True, timeout=60)
    check(p.returncode == 0, f"caf-rtt --raw: exit {p.returncode}")
    obj = json.loads(p.stdout.decode())
    check(obj["policy"] == "raw-tcp" and 0 < obj["p50_us"] <= obj["p99_us"],
          f"raw: {obj}")


if __name__ == "__main__":
    run_tests([test_bench_json_in_one_process_with_baseline,
               test_bench_drives_a_running_cluster,
               test_bench_errors_are_clear,
               test_rtt_measures_round_trips_and_exits_cleanly])
