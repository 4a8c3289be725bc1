#!/usr/bin/env python3
"""Hosts emulated with network namespaces: every node (and the clients) in its
own namespace with its own address, all linked by veth pairs to a bridge in a
hub namespace this test creates. Cutting one link partitions a server; the
majority chats on; healing the link lets the server catch up. All traffic
stays inside the namespaces made here. Skips (exit 0, with a message) where
namespaces cannot be made."""

import os
import shutil
import subprocess
import sys
import time

from cluster import Cluster, Feeder, check_common_order
from common import Failure, check, parse_args, run_tests, workdir

ARGS = parse_args()
TAG = f"cc{os.getpid() % 100000}"
SUBNET = f"10.{77 + os.getpid() % 50}.0"


def sh(*cmd, check_rc=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check_rc and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p


class Net:
    """A hub namespace with a bridge, and one namespace per host."""

    def __init__(self):
        self.hub = f"{TAG}-hub"
        self.hosts = {}
        sh("ip", "netns", "add", self.hub)
        sh("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.hub, "link", "set", "br0", "up")

    def add_host(self, name, octet):
        ns = f"{TAG}-{name}"
        sh("ip", "netns", "add", ns)
        inner, outer = f"v{TAG}{name}i", f"v{TAG}{name}o"
        sh("ip", "link", "add", inner, "netns", ns, "type", "veth", "peer",
           "name", outer, "netns", self.hub)
        sh("ip", "-n", ns, "addr", "add", f"{SUBNET}.{octet}/24", "dev", inner)
        sh("ip", "-n", ns, "link", "set", inner, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.hub, "link", "set", outer, "master", "br0")
        sh("ip", "-n", self.hub, "link", "set", outer, "up")
        self.hosts[name] = (ns, outer, f"{SUBNET}.{octet}")
        return ns

    def cut(self, name):
        sh("ip", "-n", self.hub, "link", "set", self.hosts[name][1], "down")

    def heal(self, name):
        sh("ip", "-n", self.hub, "link", "set", self.hosts[name][1], "up")

    def exec_prefix(self, name):
        return ["ip", "netns", "exec", self.hosts[name][0]]

    def destroy(self):
        for ns, _, _ in self.hosts.values():
            sh("ip", "netns", "del", ns, check_rc=False)
        sh("ip", "netns", "del", self.hub, check_rc=False)


def namespaces_available():
    if os.geteuid() != 0:
        return "not root"
    probe = f"{TAG}-probe"
    p = sh("ip", "netns", "add", probe, check_rc=False)
    if p.returncode != 0:
        return p.stderr.strip() or "ip netns add failed"
    sh("ip", "netns", "del", probe, check_rc=False)
    return None


class NsCluster(Cluster):
    """A Cluster whose nodes and clients run inside namespaces."""

    def __init__(self, build, wd, net):
        hosts = {nid: net.hosts[f"n{nid}"][2] for nid in ["lb", "1", "2", "3"]}
        super().__init__(build, wd, hosts=hosts)
        self.net = net
        for nid in hosts:
            self.wrap[nid] = net.exec_prefix(f"n{nid}")

    def chat(self, name, script, timeout=60, drain=30):
        # Clients live on their own host.
        p = subprocess.run(self.net.exec_prefix("client") + [
            os.path.join(self.bin, "caf-chat"), "--config", self.config,
            "--name", name, "--output", "jsonl", "--drain-timeout", str(drain)],
            input=script.encode(), capture_output=True, cwd=self.dir,
            timeout=timeout)
        from common import json_lines
        return p.returncode, json_lines(p.stdout.decode(), name), p.stderr.decode()


def test_partition_by_cutting_one_link_then_heal():
    net = Net()
    wd = workdir("cafchat-netns-")
    c = None
    try:
        for i, nid in enumerate(["lb", "1", "2", "3"]):
            net.add_host(f"n{nid}", 10 + i)
        net.add_host("client", 50)
        c = NsCluster(ARGS.build, wd, net)
        c.start_all()
        c.wait(lambda: c.status()["ready"] and c.leader() is not None, 30,
               "a leader across the namespaces")
        # Cut the link of a follower: the majority goes on without it.
        victim = next(i for i in (1, 2, 3) if i != c.leader())
        rc, objs, err = c.chat("alice", "before the cut\n")
        check(rc == 0, err)
        net.cut(f"n{victim}")
        rc, objs, err = c.chat("bob", "\n".join(f"during {i}" for i in range(20))
                               + "\n", timeout=90)
        check(rc == 0, f"bob during the partition: {err}")
        st = c.status()["servers"]
        behind = {s["id"]: s["delivered_upto"] for s in st}
        check(not next(s for s in st if s["id"] == victim)["alive"]
              or behind[victim] < max(behind.values()),
              f"server {victim} kept up while cut off: {st}")
        # Heal: it catches up on everything decided meanwhile.
        net.heal(f"n{victim}")
        c.wait(lambda: all(s["alive"] for s in c.status()["servers"]), 30,
               f"server {victim} to reconnect")
        c.wait(lambda: len({s["delivered_upto"] for s in c.status()["servers"]})
               == 1, 30, f"server {victim} to catch up")
        rc, objs, err = c.chat("carol", "after the heal\n")
        check(rc == 0, err)
        texts = [o["text"] for o in objs if "event" not in o]
        check(texts[0] == "before the cut" and texts[-1] == "after the heal"
              and len(texts) == 22, f"history: {texts}")
    finally:
        if c is not None:
            c.stop_all()
        net.destroy()
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    why = namespaces_available()
    if why:
        print(f"  skip  network namespaces unavailable here ({why})")
        sys.exit(0)
    run_tests([test_partition_by_cutting_one_link_then_heal])
