"""Drives a multi-process cafchat cluster for the process tests: writes a
config on free loopback ports, starts and kills nodes, runs caf-chat clients
that feed lines with pauses, and reads /status. Every wait is bounded."""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

from common import Failure, check, json_lines, workdir


def free_port_block(n):
    """A run of n free TCP ports on loopback."""
    for _ in range(200):
        base = random.randint(20000, 50000)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise Failure("no free ports")


class Cluster:
    def __init__(self, build, workdir, servers=3, storage=None, extra="",
                 hosts=None, paxos_defaults=False, paxos=()):
        self.bin = os.path.join(os.path.abspath(build), "bin")
        self.dir = workdir
        self.servers = list(range(1, servers + 1))
        storage = storage or os.environ.get("CAFCHAT_TEST_STORAGE", "lmdb")
        base = free_port_block(servers + 1)
        hosts = hosts or {}
        self.addr = {"lb": (hosts.get("lb", "127.0.0.1"), base)}
        for i in self.servers:
            self.addr[str(i)] = (hosts.get(str(i), "127.0.0.1"), base + i)
        lines = ["[nodes]"]
        for nid, (h, p) in self.addr.items():
            lines.append(f"{nid} = {h}:{p}")
        lines += ["[cluster]", f"storage = {storage}",
                  "data_dir = data/server-{id}", "[log]",
                  "events = logs/server-{id}.jsonl", "lb_events = logs/lb.jsonl",
                  ] + (["[paxos]"] if paxos_defaults and paxos else []) + (
                  [] if paxos_defaults else [
                  "[paxos]", "heartbeat_ms = 50", "election_timeout_ms = 400"]
                  ) + list(paxos) + [
                  "[client]", "retry_ms = 500", "connect_timeout_ms = 1000",
                  "[runtime]", "heartbeat_interval_ms = 100",
                  "connection_timeout_ms = 1000", extra]
        self.config = os.path.join(workdir, "cluster.ini")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.procs = {}
        self.wrap = {}  # node id -> command prefix (e.g. ip netns exec)
        self.founded = set()  # servers started once (they founded the cluster)

    def start(self, nid, bootstrap=None):
        """Starts node nid. A server's first start founds the new cluster
        (--bootstrap), unless bootstrap=False; later starts never do."""
        nid = str(nid)
        log = open(os.path.join(self.dir, f"node-{nid}.log"), "ab")
        cmd = self.wrap.get(nid, []) + [os.path.join(self.bin, "caf-node"),
                                        "--config", self.config, "--node", nid]
        if bootstrap is None:
            bootstrap = nid != "lb" and nid not in self.founded
        if nid != "lb":
            self.founded.add(nid)
        if bootstrap:
            cmd.append("--bootstrap")
        self.procs[nid] = subprocess.Popen(cmd, cwd=self.dir, stdout=log,
                                           stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)

    def start_all(self):
        self.start("lb")
        for i in self.servers:
            self.start(i)

    def signal(self, nid, sig):
        self.procs[str(nid)].send_signal(sig)

    def kill9(self, nid):
        p = self.procs[str(nid)]
        p.kill()
        p.wait(timeout=10)

    def alive(self, nid):
        p = self.procs.get(str(nid))
        return p is not None and p.poll() is None

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                except OSError:
                    pass
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def chat(self, name, script, timeout=60, drain=30):
        """Runs caf-chat on a whole script; returns (rc, objs, stderr)."""
        p = subprocess.run([os.path.join(self.bin, "caf-chat"), "--config",
                            self.config, "--name", name, "--output", "jsonl",
                            "--drain-timeout", str(drain)],
                           input=script.encode(), capture_output=True,
                           cwd=self.dir, timeout=timeout)
        return p.returncode, json_lines(p.stdout.decode(), f"caf-chat {name}"), \
            p.stderr.decode()

    def status(self):
        rc, objs, err = self.chat("probe", "/status\n", timeout=30, drain=5)
        check(rc == 0, f"status probe failed: {err}")
        st = [o for o in objs if o.get("event") == "status"]
        check(st, "no status line")
        return st[0]

    def leader(self):
        for s in self.status()["servers"]:
            if s["alive"] and s["role"] == "leader":
                return s["id"]
        return None

    def wait(self, cond, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if cond():
                    return
            except Failure:
                pass
            time.sleep(0.2)
        raise Failure(f"timed out after {timeout}s waiting for {what}")


def with_cluster(build, fn, leader_timeout=30, prefix="cafchat-cluster-",
                 cluster_class=Cluster, **kw):
    """Runs fn(cluster) on a new cluster (Cluster's options in kw) that has
    elected a leader, and stops it afterwards; a failure carries the tails of
    the nodes' logs."""
    wd = workdir(prefix)
    c = cluster_class(build, wd, **kw)
    try:
        c.start_all()
        c.wait(lambda: c.status()["ready"] and c.leader() is not None,
               leader_timeout, "the cluster to elect a leader")
        fn(c)
    except Failure as e:
        logs = ""
        for f in sorted(os.listdir(wd)):
            if f.startswith("node-"):
                with open(os.path.join(wd, f), errors="replace") as fh:
                    tail = fh.read()[-600:]
                logs += f"\n--- {f}:\n{tail}"
        raise Failure(f"{e}{logs}")
    finally:
        c.stop_all()
        shutil.rmtree(wd, ignore_errors=True)


class Feeder:
    """A caf-chat client fed line by line from a thread, with a pause between
    lines, so that faults hit it mid-stream."""

    def __init__(self, cluster, name, lines, pause=0.02, drain=60):
        self.name = name
        self.lines = lines
        self.pause = pause
        self.proc = subprocess.Popen(
            [os.path.join(cluster.bin, "caf-chat"), "--config", cluster.config,
             "--name", name, "--output", "jsonl", "--drain-timeout", str(drain)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cluster.dir)
        self.sent = 0
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _feed(self):
        try:
            for line in self.lines:
                self.proc.stdin.write((line + "\n").encode())
                self.proc.stdin.flush()
                self.sent += 1
                time.sleep(self.pause)
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def finish(self, timeout=120):
        self.thread.join(timeout)
        if self.proc.stdin is not None and self.proc.stdin.closed:
            self.proc.stdin = None
        out, err = self.proc.communicate(timeout=timeout)
        self.rc = self.proc.returncode
        self.stderr = err.decode()
        self.objs = json_lines(out.decode(), f"caf-chat {self.name}")
        return self


def feed_through_leader_kill(c, n, names=("alice", "bob", "carol")):
    """Feeders that send n lines each while the leader is killed with
    SIGKILL a third of the way in and started again at two thirds; returns
    them finished, each checked to have exited 0."""
    feeders = [Feeder(c, name, [f"{name} {i}" for i in range(n)], pause=0.03)
               for name in names]
    c.wait(lambda: all(f.sent >= n // 3 for f in feeders), 30,
           "a third of the messages to be sent")
    leader = c.leader()
    check(leader is not None, "no leader")
    c.kill9(leader)
    c.wait(lambda: all(f.sent >= 2 * n // 3 for f in feeders), 30,
           "two thirds of the messages")
    c.start(leader)
    for f in feeders:
        f.finish()
        check(f.rc == 0, f"{f.name} exit {f.rc}: {f.stderr[-500:]}")
    return feeders


def check_common_order(feeders, final_history):
    """Every client's view is a prefix of the final history; every message a
    client sent (and had acknowledged, since it exited 0) is in it once, in
    the client's order; nothing is invented."""
    final = [(m["index"], m["from"], m["seq"], m["text"]) for m in final_history]
    check([f[0] for f in final] == list(range(1, len(final) + 1)),
          "final history indices are not 1..n")
    for fd in feeders:
        view = [(m["index"], m["from"], m["seq"], m["text"])
                for m in fd.objs if "event" not in m]
        check(view == final[:len(view)],
              f"{fd.name}'s view is not a prefix of the common history")
        mine = [(seq, text) for (_, frm, seq, text) in final if frm == fd.name]
        check([t for _, t in mine] == fd.lines,
              f"{fd.name}: history holds {len(mine)} of {len(fd.lines)} "
              f"messages, or not in order")
        check([s for s, _ in mine] == list(range(1, len(mine) + 1)),
              f"{fd.name}: seqs not 1..n")
    senders = {fd.name for fd in feeders}
    check(all(f[1] in senders | {"probe", "reader", "dave"} for f in final),
          "a message from nobody")
