#!/usr/bin/env python3
"""caf-node as a process: the whole cluster in one process, driven by a script
on stdin with --output jsonl, as a user's script would drive it."""

import datetime
import os
import pty
import re
import select
import shutil
import subprocess
import time

from common import (ROOT, Failure, binary, check, event_log, events, json_lines,
                    messages, parse_args, run_tests, workdir)

ARGS = parse_args()
NODE = binary(ARGS.build, "caf-node")
CONFIG = os.path.join(ROOT, "configs", "single-host.ini")


def run(script, *extra, config=CONFIG, timeout=60, env=None):
    wd = workdir("cafchat-single-")
    try:
        p = subprocess.run([NODE, "--config", config, *extra], input=script,
                           capture_output=True, cwd=wd, timeout=timeout,
                           env=env)
        logs = sorted(os.listdir(os.path.join(wd, "logs"))) \
            if os.path.isdir(os.path.join(wd, "logs")) else []
        for name in logs:
            event_log(os.path.join(wd, "logs", name))
        return p, logs
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def test_scripted_chat_delivers_every_line_in_order():
    lines = [f"message {i}" for i in range(1, 31)]
    p, logs = run(("\n".join(lines) + "\n").encode(), "--output", "jsonl",
                  "--name", "alice")
    check(p.returncode == 0, f"exit code {p.returncode}: {p.stderr.decode()}")
    objs = json_lines(p.stdout.decode(), "stdout")
    msgs = messages(objs)
    check([m["text"] for m in msgs] == lines, f"texts differ: {msgs[:3]}...")
    check([m["index"] for m in msgs] == list(range(1, 31)), "indices not 1..30")
    check([m["seq"] for m in msgs] == list(range(1, 31)), "seqs not 1..30")
    check(all(m["from"] == "alice" for m in msgs), "sender name")
    check(all(list(m) == ["index", "slot", "from", "seq", "text", "client",
                          "time"] for m in msgs),
          "a message line's keys are not the contract's, in order, with "
          "\"time\" last")
    times = [m["time"] for m in msgs]
    check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t)
              for t in times), f"times are not ISO 8601 UTC: {times[:3]}")
    check(times == sorted(times), "times go backwards")
    slots = [m["slot"] for m in msgs]
    check(slots == sorted(slots), "slots go backwards")
    check(len(events(objs, "connected")) == 1, "one connected notice")
    check(logs == ["lb.jsonl", "server-1.jsonl", "server-2.jsonl",
                   "server-3.jsonl"], f"event logs: {logs}")


def test_leader_killed_mid_stream_loses_nothing():
    # Server 1 hosts the only client and is its first proposer, so it leads.
    lines = [f"before {i}" for i in range(10)] + ["/kill 1"] + \
        [f"after {i}" for i in range(10)] + ["/restart 1"] + ["last"]
    p, _ = run(("\n".join(lines) + "\n").encode(), "--output", "jsonl",
               "--name", "bob")
    check(p.returncode == 0, f"exit code {p.returncode}: {p.stderr.decode()}")
    objs = json_lines(p.stdout.decode(), "stdout")
    texts = [m["text"] for m in messages(objs)]
    want = [l for l in lines if not l.startswith("/")]
    check(texts == want, f"delivered {texts}")
    check(len(events(objs, "kill")) == 1, "a kill notice")
    check(len(events(objs, "server_lost")) <= 1, "at most one reroute")


def test_commands_answer_in_json():
    p, _ = run(b"hello\n/sync\n/status\n/who\n/history 1\n", "--output",
               "jsonl")
    check(p.returncode == 0, p.stderr.decode())
    objs = json_lines(p.stdout.decode(), "stdout")
    status = events(objs, "status")
    check(len(status) == 1 and len(status[0]["servers"]) == 3, f"{status}")
    check(sum(1 for s in status[0]["servers"] if s["role"] == "leader") == 1,
          "exactly one leader in /status")
    who = events(objs, "who")
    check(len(who) == 1 and len(who[0]["clients"]) == 1, f"{who}")
    hist = events(objs, "history")
    check(len(hist) == 1 and hist[0]["count"] == 1, f"{hist}")
    # /history repeats the entry after the event line.
    check(len(messages(objs)) == 2, f"{messages(objs)}")


def test_any_text_survives_the_json_lines():
    # Quotes, backslashes, control characters, non-ASCII: JSON escapes what it
    # must (json_lines checks the form byte for byte) and a script reads back
    # exactly what was sent.
    texts = ['say "hi" \\ back', "tab\there", "bell\x07 bs\x08 ff\x0c esc\x1b",
             "caf\u00e9 \u00fc \U0001d11e \u2028", "{\"not\": \"json\"}"]
    name = 'o"brien\\'
    script = "\n".join(texts + ["/faults bogus", "/faults drop 0", "/status"]) + "\n"
    p, _ = run(script.encode(), "--output", "jsonl", "--name", name)
    check(p.returncode == 0, p.stderr.decode())
    objs = json_lines(p.stdout.decode(), "stdout")
    msgs = messages(objs)
    check([m["text"] for m in msgs] == texts, f"texts: {[m['text'] for m in msgs]}")
    check(all(m["from"] == name for m in msgs), f"names: {[m['from'] for m in msgs]}")
    errors = events(objs, "error")
    check(len(errors) == 1 and errors[0]["detail"].startswith("error: usage: /faults ["),
          f"/faults bogus: {errors}")
    faults = events(objs, "faults")
    check(len(faults) == 1 and list(faults[0]) == ["event", "faulty", "dropped",
                                                    "forwarded", "detail"],
          f"/faults drop 0: {faults}")
    check(faults[0]["detail"].startswith("faults: "), f"{faults}")


def test_bad_input_gets_an_error_and_the_shell_goes_on():
    # 4294967297 is 2^32 + 1: server 1 once a cast cut it to 32 bits; nan
    # and 1e300 seconds overflowed /sync's deadline.
    script = b"/nonsense\n" + b"x" * 5000 + b"\n\xff\xfe bad utf8\n/kill\n" \
        b"/kill 99\n/kill 4294967297\n/sync nan\n/sync 1e300\nfine\n"
    p, _ = run(script, "--output", "jsonl")
    check(p.returncode == 0, p.stderr.decode())
    objs = json_lines(p.stdout.decode(), "stdout")
    errors = [e["detail"] for e in events(objs, "error")]
    check(len(errors) == 8, f"errors: {errors}")
    check(sum("usage: /kill <server id>" in e for e in errors) == 2, "usage")
    check(sum("usage: /sync [seconds]" in e for e in errors) == 2, "/sync usage")
    check(events(objs, "kill") == [], f"nothing killed: {events(objs, 'kill')}")
    check(any("unknown command /nonsense" in e for e in errors), "unknown command")
    check(any("over the limit of 4096 bytes" in e for e in errors), "oversize")
    check(any("not valid UTF-8" in e for e in errors), "invalid utf-8")
    check(any("usage: /kill <server id>" in e for e in errors), "usage")
    check(any("no server 99" in e for e in errors), "unknown server")
    check([m["text"] for m in messages(objs)] == ["fine"], "the good line")


def test_text_output_is_for_people():
    # [index] HH:MM name: text, HH:MM the local time it was ordered.
    env = dict(os.environ, TZ="UTC")
    before = datetime.datetime.now(datetime.timezone.utc)
    p, _ = run(b"hi there\n", "--name", "carol", env=env)
    after = datetime.datetime.now(datetime.timezone.utc)
    check(p.returncode == 0, p.stderr.decode())
    out = p.stdout.decode()
    m = re.search(r"^\[1\] (\d\d:\d\d) carol: hi there$", out, re.M)
    check(m, out)
    minutes = {(before + datetime.timedelta(minutes=k)).strftime("%H:%M")
               for k in range(int((after - before).total_seconds() // 60) + 2)}
    check(m.group(1) in minutes, f"time {m.group(1)} is not of this run "
                                 f"({before:%H:%M}..{after:%H:%M} UTC)")


def test_help_says_what_names_indexes_and_times_are():
    p, _ = run(b"/help\n", "--name", "erin")
    check(p.returncode == 0, p.stderr.decode())
    out = p.stdout.decode()
    for words in ("[index] HH:MM name: text", "position in the one history",
                  "--name NAME", "'erin'", "local time"):
        check(words in " ".join(out.split()), f"/help does not say {words!r}:"
                                               f"\n{out}")


def test_quit_prints_no_prompt_that_takes_no_input():
    # The interactive shell on a terminal: after /quit no prompt is drawn
    # again, before or after the wait for the messages.
    wd = workdir("cafchat-tty-")
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm", HOME=wd)
    p = subprocess.Popen([NODE, "--config", CONFIG, "--name", "alice"],
                         stdin=slave, stdout=slave, stderr=slave, cwd=wd,
                         env=env)
    os.close(slave)
    buf = b""

    def read_until(pred, timeout):
        nonlocal buf
        end = time.time() + timeout
        while not pred() and time.time() < end:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk

    try:
        read_until(lambda: b"/help lists commands" in buf, 30)
        os.write(master, b"hello\r")
        read_until(lambda: b"alice: hello" in buf, 30)
        check(re.search(rb"\[1\] \d\d:\d\d alice: hello", buf), buf[-300:])
        mark = len(buf)
        # A last message right before /quit: the shell may still wait for it.
        os.write(master, b"bye\r/quit\r")
        read_until(lambda: p.poll() is not None, 30)
        p.wait(timeout=30)
        read_until(lambda: False, 0.5)
        after = buf[mark:]
        check(p.returncode == 0, f"exit code {p.returncode}: {after!r}")
        check(b"/quit" in after, f"no echo of /quit: {after!r}")
        rest = after.split(b"/quit", 1)[1]
        check(b"alice> " not in rest, f"a prompt after /quit: {after!r}")
        check(b"alice: bye" in after, f"bye not delivered: {after!r}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        shutil.rmtree(wd, ignore_errors=True)


def test_unacknowledged_messages_time_out_with_exit_1():
    # With two of three servers down nothing can be decided.
    p, _ = run(b"/kill 2\n/kill 3\nlost in the void\n", "--output", "jsonl",
               "--drain-timeout", "2")
    check(p.returncode == 1, f"exit code {p.returncode}")
    err = p.stderr.decode()
    check("1 message(s) not acknowledged" in err and "lost in the void" in err,
          err)


def test_bad_config_exits_2_naming_the_key():
    wd = workdir("cafchat-badcfg-")
    try:
        cfg = os.path.join(wd, "bad.ini")
        with open(cfg, "w") as f:
            f.write("[cluster]\nf = 1\n[paxos]\nheartbeat_ms = 900\n")
        p = subprocess.run([NODE, "--config", cfg], input=b"", capture_output=True,
                           timeout=30)
        check(p.returncode == 2, f"exit code {p.returncode}")
        check("heartbeat_ms" in p.stderr.decode(), p.stderr.decode())
        p = subprocess.run([NODE, "--config"], capture_output=True, timeout=30)
        check(p.returncode == 2 and b"--config needs a value" in p.stderr,
              p.stderr.decode())
        p = subprocess.run([NODE, f"--config={wd}/missing.ini"],
                           capture_output=True, timeout=30)
        check(p.returncode == 2 and b"cannot read" in p.stderr, p.stderr.decode())
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    run_tests([
        test_scripted_chat_delivers_every_line_in_order,
        test_leader_killed_mid_stream_loses_nothing,
        test_commands_answer_in_json,
        test_any_text_survives_the_json_lines,
        test_bad_input_gets_an_error_and_the_shell_goes_on,
        test_text_output_is_for_people,
        test_help_says_what_names_indexes_and_times_are,
        test_quit_prints_no_prompt_that_takes_no_input,
        test_unacknowledged_messages_time_out_with_exit_1,
        test_bad_config_exits_2_naming_the_key,
    ])
