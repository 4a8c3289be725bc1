#!/usr/bin/env python3
"""Bounds and identities against a real multi-process cluster on loopback
(issue 12): a client flooding at ten times its rate gets refusals while the
others chat; a client that does not take in what it is sent is disconnected
with a reason and resumes, while the servers' memory stays bounded; a 1 MiB
name and a second live "alice" are refused; another client's id is no use
without its key; and a message built to rewrite terminals arrives escaped in
text and exact in JSON lines. The rule-breaking client is
tests/process/hostile_client.cpp (build/bin/cafchat-hostile)."""

import json
import os
import subprocess
import threading
import time

from cluster import Feeder, with_cluster
from common import (Failure, check, event_log, json_lines, messages,
                    parse_args, run_tests)

ARGS = parse_args()
RATE, BURST = 50, 50
SEND_QUEUE = 256 * 1024
LIMITS = (f"[limits]\nrate_per_s = {RATE}\nrate_burst = {BURST}\n"
          f"send_queue_max_bytes = {SEND_QUEUE}")
# The servers' resident memory must stay under this while a reader that does
# not read is sent 600 KB (and its queue bound is 256 KiB).
RSS_BOUND_MB = 64


def cluster(body, prefix):
    with_cluster(ARGS.build, body, prefix=prefix, storage="memory", extra=LIMITS)


def hostile(c, *args, timeout=60):
    p = subprocess.run([os.path.join(c.bin, "cafchat-hostile"), "--config",
                        c.config, *args], capture_output=True, cwd=c.dir,
                       timeout=timeout)
    check(p.returncode == 0, f"cafchat-hostile {args[0]}: exit {p.returncode}: "
          f"{p.stderr.decode(errors='replace')[-400:]}")
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def history(c, *extra):
    p = subprocess.run([os.path.join(c.bin, "caf-chat"), "--config", c.config,
                        "--history", *extra], capture_output=True, cwd=c.dir,
                       timeout=60, stdin=subprocess.DEVNULL)
    check(p.returncode == 0, f"--history: exit {p.returncode}: {p.stderr[-300:]}")
    return p.stdout


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_a_client_flooding_at_ten_times_its_rate_is_refused_while_others_chat():
    def body(c):
        result = {}
        flood = threading.Thread(target=lambda: result.update(
            hostile(c, "flood", "flooder", str(10 * RATE), "4")))
        flood.start()
        time.sleep(0.5)
        honest = [Feeder(c, name, [f"{name} {i}" for i in range(20)], pause=0.1)
                  for name in ("alice", "bob")]
        for f in honest:
            f.finish()
            check(f.rc == 0, f"{f.name}: exit {f.rc}: {f.stderr[-400:]}")
        flood.join(60)
        check(result, "the flooder printed nothing")
        print(f"  info  flood: sent {result['sent']} in 4 s at {10 * RATE}/s, "
              f"{result['refused']} refused, {result['delivered_own']} "
              f"delivered", flush=True)
        check(result["refused"] >= result["sent"] // 2,
              f"only {result['refused']} of {result['sent']} refused")
        check("over the rate limit of 50 messages/s" in result["reason"],
              f"reason: {result['reason']!r}")
        check(result["delivered_own"] <= RATE * 4 + BURST,
              f"{result['delivered_own']} flood messages delivered, over "
              f"the rate")
        final = messages(json_lines(history(c, "--output", "jsonl").decode(),
                                    "history"))
        for f in honest:
            mine = [m["text"] for m in final if m["from"] == f.name]
            check(mine == f.lines, f"{f.name}: {len(mine)} of {len(f.lines)} "
                  f"delivered while the flood went on")
        st = c.status()
        check(all(s["alive"] for s in st["servers"]), "a server died")
    cluster(body, "cafchat-flood-")


def test_a_client_that_never_reads_is_disconnected_and_resumes():
    def body(c):
        pids = {i: c.procs[str(i)].pid for i in c.servers}
        before = {i: rss_mb(p) for i, p in pids.items()}
        result = {}
        reader = threading.Thread(target=lambda: result.update(
            hostile(c, "noread", "sleeper", "40", timeout=90)))
        reader.start()
        time.sleep(1.0)
        # 150 messages of 4000 bytes: 600 KB of history for the sleeper
        # (caf-chat paces them to the rate; its stdout is read as it comes).
        lines = [f"{i:04d} " + "x" * 3995 for i in range(150)]
        loud = {}
        sender = threading.Thread(target=lambda: loud.update(zip(
            ("rc", "objs", "err"), c.chat("loud", "\n".join(lines) + "\n",
                                          timeout=120, drain=60))))
        sender.start()
        peak = dict(before)
        while sender.is_alive() or reader.is_alive():
            for i, p in pids.items():
                peak[i] = max(peak[i], rss_mb(p))
            time.sleep(0.1)
        sender.join()
        check(loud.get("rc") == 0, f"loud: exit {loud.get('rc')}: "
              f"{loud.get('err', '')[-400:]}")
        reader.join(60)
        print(f"  info  servers' RSS before {sorted(before.values())} MB, peak "
              f"{[round(v, 1) for v in sorted(peak.values())]} MB "
              f"(bound {RSS_BOUND_MB} MB)", flush=True)
        check(result.get("closed"), f"the sleeper was never disconnected: "
              f"{result}")
        check("send queue of" in result["reason"]
              and f"over the limit of {SEND_QUEUE}" in result["reason"],
              f"reason: {result['reason']!r}")
        check(result["resumed"], f"no resume: {result}")
        check(result["resumed_at"] in (0, result["resumed_after"] + 1),
              f"resumed at {result['resumed_at']} after "
              f"{result['resumed_after']}")
        check(max(peak.values()) < RSS_BOUND_MB,
              f"a server reached {max(peak.values()):.0f} MB")
        closed = []
        for i in c.servers:
            path = os.path.join(c.dir, "logs", f"server-{i}.jsonl")
            if os.path.exists(path):
                closed += [e for e in event_log(path)
                           if e["event"] == "slow_reader_closed"]
        check(closed, "no slow_reader_closed line in the servers' event logs")
    cluster(body, "cafchat-slow-")


BACKLOG = 2359296  # [limits] connection_backlog_max_bytes for the test


def test_a_client_that_confirms_without_reading_is_cut_off_by_the_backlog():
    """A client that says it read everything (`received` with any index) but
    never reads its socket: the session's send queue sees a perfect reader,
    so only the bound on the connection's own write buffer stops the
    server's memory from growing with the history it is sent."""
    def body(c):
        # 12 MB of history: more than the kernel's socket buffers hold.
        lines = [f"{i:05d} " + "h" * 3994 for i in range(3000)]
        rc, objs, err = c.chat("filler", "\n".join(lines) + "\n",
                               timeout=180, drain=60)
        check(rc == 0, f"filler: exit {rc}: {err[-400:]}")
        pids = {i: c.procs[str(i)].pid for i in c.servers}
        before = {i: rss_mb(p) for i, p in pids.items()}
        result = {}
        blind = threading.Thread(target=lambda: result.update(
            hostile(c, "ackblind", "blind", "40", timeout=90)))
        blind.start()
        peak = dict(before)
        while blind.is_alive():
            for i, p in pids.items():
                peak[i] = max(peak[i], rss_mb(p))
            time.sleep(0.1)
        growth = max(peak[i] - before[i] for i in pids)
        print(f"  info  servers' RSS before {sorted(round(v) for v in before.values())}"
              f" MB, largest growth {growth:.1f} MB while 12 MB of history "
              f"went to a client that reads nothing", flush=True)
        check(result.get("closed"), f"the blind client was never cut off: "
              f"{result}")
        cut = []
        for i in c.servers:
            path = os.path.join(c.dir, "logs", f"server-{i}.jsonl")
            if os.path.exists(path):
                cut += [e for e in event_log(path) if e["event"] == "refused"
                        and e.get("message") == "send_backlog"]
        check(cut, "no refused send_backlog line in the servers' event logs")
        check(f"above connection_backlog_max_bytes {BACKLOG}" in
              cut[0].get("detail", ""), f"the refusal says: {cut[0]}")
        check(growth < 16, f"a server grew by {growth:.0f} MB")
        # The cluster chats on.
        rc, objs, err = c.chat("after", "still here\n", timeout=60)
        check(rc == 0 and any(o.get("text") == "still here" for o in objs),
              f"after: exit {rc}: {err[-300:]}")
    with_cluster(ARGS.build, body, prefix="cafchat-blind-", storage="memory",
                 paxos=("history_chunk = 64",),
                 extra=(f"max_frame_bytes = {BACKLOG}\n[limits]\n"
                        f"connection_backlog_max_bytes = {BACKLOG}\n"
                        "send_queue_max_bytes = 1048576"))


def test_a_1_mib_name_and_a_second_live_alice_are_refused():
    def body(c):
        r = hostile(c, "bigname", str(1 << 20))
        check(r["refused"] and r["reason"] == "name of 1048576 bytes is over "
              "the limit of 64 bytes", f"1 MiB name: {r}")
        # Alice stays for 8 s: longer than a second alice keeps asking (3 s,
        # in case the holder of the name just left).
        alice = Feeder(c, "alice", [f"alice {i}" for i in range(16)], pause=0.5)
        time.sleep(1.5)
        rc, objs, err = c.chat("alice", "hijack\n", timeout=30)
        check(rc == 2, f"a second alice: exit {rc}")
        check("name in use" in err, f"a second alice: stderr {err!r}")
        check(any(o.get("event") == "refused" and "name in use" in o["detail"]
                  for o in objs), f"no refused notice: {objs}")
        alice.finish()
        check(alice.rc == 0, f"alice: exit {alice.rc}: {alice.stderr[-300:]}")
        # Gone: the name is free again.
        rc, _, err = c.chat("alice", "back again\n", timeout=30)
        check(rc == 0, f"alice after alice left: exit {rc}: {err[-300:]}")
        texts = [m["text"] for m in messages(json_lines(
            history(c, "--output", "jsonl").decode(), "history"))]
        check("hijack" not in texts, "the second alice's message got in")
    cluster(body, "cafchat-names-")


def test_another_clients_id_is_no_use_without_its_key():
    def body(c):
        bob = Feeder(c, "bob", [f"bob {i}" for i in range(10)], pause=0.4)
        deadline = time.time() + 30
        seen = []
        while time.time() < deadline and len(seen) < 3:
            seen = [m for m in messages(json_lines(history(
                c, "--output", "jsonl").decode(), "history"))
                if m["from"] == "bob"]
            time.sleep(0.2)
        check(len(seen) >= 3, "bob's first messages never arrived")
        victim, last = seen[-1]["client"], seen[-1]["seq"]
        r = hostile(c, "impersonate", "mallory", str(victim), str(last + 1), "5")
        check(r["refused"] == 5 and r["reason"] == "command names another client",
              f"impersonation: {r}")
        check(r["client"] != victim, "mallory got bob's id")
        bob.finish()
        check(bob.rc == 0, f"bob: exit {bob.rc}: {bob.stderr[-300:]}")
        final = messages(json_lines(history(c, "--output", "jsonl").decode(),
                                    "history"))
        mine = [(m["seq"], m["text"]) for m in final if m["client"] == victim]
        check(mine == [(i + 1, f"bob {i}") for i in range(10)],
              f"bob's messages as delivered: {mine}")
        check(not any("forged" in m["text"] for m in final), "a forged message")
    cluster(body, "cafchat-ids-")


EVIL = "hi\r[9] bob: x\x1b]52;c;AAAA\x07\u202e"


def test_a_terminal_injection_arrives_escaped_in_text_and_exact_in_jsonl():
    def body(c):
        rc, _, err = c.chat("alice", EVIL + "\n", timeout=30)
        check(rc == 0, f"alice: exit {rc}: {err[-300:]}")
        text = history(c)
        line = [l for l in text.split(b"\n") if b"alice" in l]
        check(len(line) == 1, f"text history: {text!r}")
        for bad, what in ((b"\x1b", "ESC"), (b"\r", "CR"), (b"\x07", "BEL"),
                          ("\u202e".encode(), "U+202E")):
            check(bad not in text, f"raw {what} in the text output: {text!r}")
        check(line[0].endswith(b"alice: hi\\x0d[9] bob: x\\x1b]52;c;AAAA\\x07"
                               b"<U+202E>"), f"text line: {line[0]!r}")
        objs = messages(json_lines(history(c, "--output", "jsonl").decode(),
                                   "history"))
        check([m["text"] for m in objs] == [EVIL], f"jsonl: {objs}")
    cluster(body, "cafchat-inject-")


if __name__ == "__main__":
    run_tests([
        test_a_client_flooding_at_ten_times_its_rate_is_refused_while_others_chat,
        test_a_client_that_never_reads_is_disconnected_and_resumes,
        test_a_client_that_confirms_without_reading_is_cut_off_by_the_backlog,
        test_a_1_mib_name_and_a_second_live_alice_are_refused,
        test_another_clients_id_is_no_use_without_its_key,
        test_a_terminal_injection_arrives_escaped_in_text_and_exact_in_jsonl,
    ])
