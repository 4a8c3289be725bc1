"""Mutual TLS, authenticated peers and authorisation by role, on a real
multi-process cluster on loopback (docs/security.md):

* a plaintext CAF remote_actor, a raw BASP header announcing a 4 GiB payload
  and random bytes are each refused on every port of a TLS cluster, and no
  node's RSS grows; a certificate from a foreign CA is refused; a valid node
  certificate used to claim another server id is refused; `ss -ltn` shows
  only the configured addresses;
* a client with a valid client certificate that registers as a server,
  announces itself as a peer, sends Paxos messages and operator commands is
  refused, and every refusal is in an event log naming it; honest clients
  meanwhile chat under their certificates' names, every message is
  delivered, and every replica holds the same history;
* operator commands need an operator certificate;
* on a plaintext cluster the BASP frame bound holds too (the node guard's
  interposition is in effect).

    python3 tests/process/test_tls.py --build build
"""

import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cluster import Cluster, with_cluster  # noqa: E402
from common import (ROOT, Failure, binary, check, event_log, events,  # noqa: E402
                    json_lines, messages, parse_args, run_tests)

ARGS = parse_args()
GEN_CERTS = os.path.join(ROOT, "tools", "gen-certs")
TLS = "\n".join(["[tls]", "ca = certs/ca.pem",
                 "certificate = certs/node-{id}.pem",
                 "key = certs/node-{id}.key"])


class TlsCluster(Cluster):
    """A Cluster whose config has a [tls] section, with certificates made by
    tools/gen-certs (clients alice, bob, mallory; operator carol), and a
    second CA's certificates in certs-foreign."""

    def __init__(self, build, workdir, **kw):
        super().__init__(build, workdir, extra=TLS, **kw)
        for out, extra in (("certs", ["--client", "alice", "--client", "bob",
                                      "--client", "mallory", "--operator",
                                      "carol"]),
                           ("certs-foreign", ["--client", "alice"])):
            p = subprocess.run([GEN_CERTS, "--config", self.config, "--out",
                                os.path.join(workdir, out)] + extra,
                               capture_output=True, timeout=120)
            check(p.returncode == 0, f"gen-certs failed: {p.stderr.decode()}")

    def cert(self, who, certs="certs"):
        d = os.path.join(self.dir, certs)
        return ["--cert", os.path.join(d, f"{who}.pem"),
                "--key", os.path.join(d, f"{who}.key")]

    def chat(self, name, script, timeout=60, drain=30, who=None):
        who = who or "operator-carol"
        p = subprocess.run([os.path.join(self.bin, "caf-chat"), "--config",
                            self.config, "--name", name, "--output", "jsonl",
                            "--drain-timeout", str(drain)] + self.cert(who),
                           input=script.encode(), capture_output=True,
                           cwd=self.dir, timeout=timeout)
        return p.returncode, json_lines(p.stdout.decode(), f"caf-chat {name}"), \
            p.stderr.decode()

    def hostile(self, *args, config=None, timeout=60):
        p = subprocess.run([binary(ARGS.build, "caf-hostile"), "--config",
                            config or self.config] + list(args),
                           capture_output=True, cwd=self.dir, timeout=timeout)
        check(p.returncode == 0,
              f"caf-hostile {args} failed ({p.returncode}): {p.stderr.decode()}")
        out = []
        for line in p.stdout.decode().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise Failure(f"caf-hostile wrote {line!r}")
        return out

    def plaintext_config(self):
        """The same [nodes], without [tls]: a plaintext CAF client."""
        path = os.path.join(self.dir, "plain.ini")
        with open(self.config) as f:
            text = f.read().replace(TLS, "")
        with open(path, "w") as f:
            f.write(text)
        return path


def with_tls_cluster(fn, **kw):
    with_cluster(ARGS.build, fn, prefix="cafchat-tls-", cluster_class=TlsCluster,
                 **kw)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure(f"no VmRSS for {pid}")


def closed_by_peer(sock, timeout):
    """Whether the node closes the connection within `timeout` seconds
    (reading whatever it sends meanwhile, e.g. a TLS alert)."""
    deadline = time.time() + timeout
    sock.settimeout(0.2)
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def basp_header(payload_len, operation=0):
    # operation, 2 padding bytes, flags, payload_len, operation_data,
    # source_actor, dest_actor: 32 bytes, network byte order.
    return struct.pack("!BBBBIQQQ", operation, 0, 0, 0, payload_len, 1, 0, 0)


def send_and_expect_close(addr, data, what):
    s = socket.create_connection(addr, timeout=5)
    try:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            return
        check(closed_by_peer(s, 10), f"{what} to {addr}: connection still open "
                                     "after 10 s")
    finally:
        s.close()


def refusals(c, node):
    path = os.path.join(c.dir, "logs", "lb.jsonl" if node == "lb"
                        else f"server-{node}.jsonl")
    if not os.path.exists(path):
        return []
    return [e for e in event_log(path) if e["event"] == "refused"]


def all_refusals(c):
    out = []
    for nid in c.addr:
        out += [(nid, e) for e in refusals(c, nid)]
    return out


def test_strangers_are_refused_on_every_port():
    def run(c):
        pids = {nid: c.procs[nid].pid for nid in c.addr}
        # Only the configured addresses listen.
        ss = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                            timeout=10).stdout
        for nid, pid in pids.items():
            mine = [l.split()[3] for l in ss.splitlines() if f"pid={pid}," in l]
            host, port = c.addr[nid]
            check(mine == [f"{host}:{port}"],
                  f"node {nid} listens on {mine}, configured {host}:{port}")
        before = {nid: rss_kib(pid) for nid, pid in pids.items()}
        plain = c.plaintext_config()
        for nid, addr in c.addr.items():
            # A plaintext CAF node.
            r = c.hostile("--probe", nid, config=plain)
            check(r and r[0]["refused"], f"plaintext remote_actor to {nid}: {r}")
            # A BASP header announcing 4 GiB, in the clear.
            send_and_expect_close(addr, basp_header(0xFFFFFFFF), "4 GiB header")
            # Random bytes.
            send_and_expect_close(addr, random.randbytes(65536), "random bytes")
            # A certificate from another CA.
            r = c.hostile("--probe", nid, *c.cert("client-alice", "certs-foreign"))
            check(r and r[0]["refused"], f"foreign CA to {nid}: {r}")
            # An honest client certificate connects.
            r = c.hostile("--probe", nid, *c.cert("client-alice"))
            check(r and not r[0]["refused"], f"alice to {nid}: {r}")
        time.sleep(0.5)
        for nid, pid in pids.items():
            grown = rss_kib(pid) - before[nid]
            check(grown < 32 * 1024, f"node {nid}'s RSS grew by {grown} KiB")
        # The foreign certificate is in every node's log, by reason.
        for nid in c.addr:
            why = [e.get("detail", "") for e in refusals(c, nid)
                   if e["message"] == "tls_certificate"]
            check(why, f"node {nid} logged no refused certificate")
        # The cluster still works.
        rc, objs, err = c.chat("x", "still here\n", who="client-bob")
        check(rc == 0, f"bob could not chat afterwards: {err}")
    with_tls_cluster(run)


def test_hostile_client_is_contained():
    def run(c):
        names = ("alice", "bob")
        results = {}

        def honest(name):
            script = "".join(f"{name} message {i}\n" for i in range(30))
            # --name is ignored: the certificate names the client.
            results[name] = c.chat("someone-else", script, timeout=120,
                                   who=f"client-{name}")

        threads = [threading.Thread(target=honest, args=(n,)) for n in names]
        for t in threads:
            t.start()
        hostile = c.hostile("--target", "1", *c.cert("client-mallory"))
        # A valid node certificate, used to claim another server id.
        impostor = c.hostile("--target", "1", *c.cert("node-2"))
        for t in threads:
            t.join(150)
            check(not t.is_alive(), "an honest client did not finish")
        for name in names:
            rc, objs, err = results[name]
            check(rc == 0, f"{name}: not every message was delivered: {err}")
            mine = [m for m in messages(objs) if m["text"].startswith(name)]
            check(len(mine) == 30, f"{name} saw {len(mine)} of its 30 messages")
            check(all(m["from"] == name for m in mine),
                  f"{name}'s messages are not under the certificate's name")
        by_step = {r["step"]: r for r in hostile}
        for step in ("assignment_role_handles", "register_server",
                     "operator_command_lb", "operator_command_host"):
            check(by_step.get(step, {}).get("refused"),
                  f"mallory's {step} was not refused: {by_step.get(step)}")
        imp = {r["step"]: r for r in impostor}
        check(imp["register_server"]["refused"],
              f"server 2's certificate registered as server 1: {imp}")
        time.sleep(0.5)
        got = all_refusals(c)

        def logged(principal, message, node=None):
            return any(e["principal"] == principal and e["message"] == message
                       and (node is None or nid == node) for nid, e in got)
        for principal, message, node in (
                ("client mallory", "register_server", "lb"),
                ("client mallory", "operator_command", "lb"),
                ("client mallory", "operator_command", "1"),
                ("client mallory", "peer_atom", "1"),
                ("server 2", "register_server", "lb"),
                ("server 2", "peer_atom", "1")):
            check(logged(principal, message, node),
                  f"no refusal of {principal}'s {message} logged at {node}: "
                  f"{[(n, e['principal'], e['message']) for n, e in got]}")
        # Every replica holds the same history.
        c.wait(lambda: len({(s["history"], s["delivered_upto"])
                            for s in c.status()["servers"]}) == 1,
               30, "every server to hold the same history")
        outs = []

        def read(i):
            p = subprocess.run([os.path.join(c.bin, "caf-chat"), "--config",
                                c.config, "--history", "--output", "jsonl"]
                               + c.cert("client-alice"),
                               capture_output=True, cwd=c.dir, timeout=60)
            outs.append((p.returncode, p.stdout.decode(), p.stderr.decode()))
        readers = [threading.Thread(target=read, args=(i,)) for i in range(3)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(90)
        histories = set()
        for rc, out, err in outs:
            check(rc == 0, f"history reader failed: {err}")
            objs = json_lines(out, "history")
            histories.add(tuple((m["index"], m["from"], m["text"])
                                for m in messages(objs)))
        check(len(histories) == 1, "replicas hold different histories")
        hist = next(iter(histories))
        check(len([h for h in hist if "message" in h[2]]) == 60,
              "the history lacks honest messages")
        check(not any(h[2] == "forged" for h in hist), "a forged decide landed")
    with_tls_cluster(run)


def test_operator_commands_need_an_operator_certificate():
    def run(c):
        rc, objs, err = c.chat("x", "/skip-slot\n", who="client-alice")
        errs = [o for o in events(objs, "error")]
        check(errs and "operator certificate" in errs[0].get("detail", ""),
              f"alice's /skip-slot was not refused: {objs} {err}")
        rc, objs, err = c.chat("x", "/skip-slot\n", who="operator-carol")
        check(events(objs, "skip_slot"), f"carol's /skip-slot failed: {objs} {err}")
        check(any(e["principal"] == "client alice"
                  and e["message"] == "operator_command"
                  for e in refusals(c, "lb")), "alice's /skip-slot not logged")
    with_tls_cluster(run)


def test_frame_bound_holds_on_a_plaintext_cluster():
    def run(c):
        pid = c.procs["1"].pid
        before = rss_kib(pid)
        for _ in range(5):
            send_and_expect_close(c.addr["1"], basp_header(0xFFFFFFFF),
                                  "4 GiB header")
        time.sleep(0.3)
        grown = rss_kib(pid) - before
        check(grown < 32 * 1024, f"server 1's RSS grew by {grown} KiB")
        got = [e for e in refusals(c, "1") if e["message"] == "basp_frame"]
        check(got and "4294967295" in got[0]["detail"],
              f"no basp_frame refusal in server 1's log: {refusals(c, '1')}")
        # The start-up says the cluster is unauthenticated.
        with open(os.path.join(c.dir, "node-1.log"), errors="replace") as f:
            check("WITHOUT TLS" in f.read(), "no unauthenticated warning")
    with_cluster(ARGS.build, run, prefix="cafchat-plain-")


def test_a_client_refuses_a_load_balancer_with_another_certificate():
    """A client sent to the wrong process (here: the config names server 1's
    address as the load balancer's, as a hijacked address or a stale config
    would) sees server 1's certificate there, says so and stops at once,
    instead of asking server 1 for an assignment."""
    def run(c):
        path = os.path.join(c.dir, "wrong-lb.ini")
        host, port = c.addr["1"]
        with open(c.config) as f:
            text = f.read().replace(f"1 = {host}:{port}", f"1 = {host}:1") \
                .replace(f"lb = {c.addr['lb'][0]}:{c.addr['lb'][1]}",
                         f"lb = {host}:{port}")
        check(f"lb = {host}:{port}" in text, "could not rewrite [nodes] lb")
        with open(path, "w") as f:
            f.write(text)
        start = time.monotonic()
        p = subprocess.run([os.path.join(c.bin, "caf-chat"), "--config", path,
                            "--name", "alice", "--output", "jsonl"]
                           + c.cert("client-alice"), input=b"hi\n",
                           capture_output=True, cwd=c.dir, timeout=60)
        took = time.monotonic() - start
        err = p.stderr.decode(errors="replace")
        check(p.returncode != 0, f"caf-chat exited 0 against server 1: {err}")
        check(f"is that of server 1, not of lb" in err,
              f"caf-chat did not say whose certificate it found: {err[-400:]}")
        check(took < 20, f"caf-chat took {took:.0f} s to give up (it should "
              f"not retry a wrong certificate for 30 s)")
    with_tls_cluster(run)


if __name__ == "__main__":
    run_tests([test_strangers_are_refused_on_every_port,
               test_hostile_client_is_contained,
               test_operator_commands_need_an_operator_certificate,
               test_a_client_refuses_a_load_balancer_with_another_certificate,
               test_frame_bound_holds_on_a_plaintext_cluster])
