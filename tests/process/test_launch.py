#!/usr/bin/env python3
"""tools/launch across two hosts, the second reached over a real ssh server.

Two network namespaces made here, linked by a veth pair: "here" runs the
launcher, the load balancer, servers 1 and 3 and the chat clients; "there"
runs Debian's sshd (with a host key and an authorized key generated for this
test, on a port of its own) and, started through it, server 2. The hosts
share the filesystem, so --remote-dir can be this test's directory; --deploy
copies into a directory of its own all the same.

It checks that tools/launch refuses to start with a missing or different
caf-node or an unreachable host; chats across the hosts; kills the remote
server and brings it back with `restart 2`; stops the cluster with SIGINT and
finds no caf-node left in either namespace; then launches with --deploy,
kills the launcher with -9, reads `status` and cleans up with `stop`.

Every wait is bounded and the whole test has a deadline; the namespaces,
sshd, its keys and any process of the test go away even when it fails. Skips
(exit 0, with a message) where it cannot make namespaces or has no sshd."""

import os
import shutil
import signal
import subprocess
import sys
import time

from cluster import Cluster
from common import ROOT, Failure, check, json_lines, parse_args, run_tests, workdir

ARGS = parse_args()
LAUNCH = os.path.join(ROOT, "tools", "launch")
TAG = f"cl{os.getpid() % 100000}"
SUBNET = f"10.{180 + os.getpid() % 50}.{os.getpid() % 200 + 1}"
HERE, THERE = f"{SUBNET}.1", f"{SUBNET}.2"
SSH_PORT = 2200 + os.getpid() % 500
DEADLINE_S = 100
SSHD = "/usr/sbin/sshd"


def sh(*cmd, check_rc=True, timeout=30, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p


def netns_pids(ns):
    p = sh("ip", "netns", "pids", ns, check_rc=False)
    return [int(x) for x in p.stdout.split()]


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


class Hosts:
    """The two namespaces, the veth pair between them, and sshd over there."""

    def __init__(self, wd):
        self.wd = wd
        self.here, self.there = f"{TAG}-here", f"{TAG}-there"
        self.made = []
        self.sshd = None
        for ns in (self.here, self.there):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        a, b = f"v{TAG}h", f"v{TAG}t"
        sh("ip", "link", "add", a, "netns", self.here, "type", "veth", "peer",
           "name", b, "netns", self.there)
        for ns, dev, addr in ((self.here, a, HERE), (self.there, b, THERE)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")

    def start_sshd(self):
        d = os.path.join(self.wd, "ssh")
        os.makedirs(d, mode=0o700)
        self.key = os.path.join(d, "id")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-launch",
           "-f", self.key)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
           os.path.join(d, "host_key"))
        shutil.copy(self.key + ".pub", os.path.join(d, "authorized_keys"))
        # Without PAM sshd refuses an account whose password is locked ('!');
        # PAM (Debian's default) does not.
        locked = False
        try:
            with open("/etc/shadow") as f:
                locked = any(l.startswith("root:!") for l in f)
        except OSError:
            pass
        conf = os.path.join(d, "sshd_config")
        with open(conf, "w") as f:
            f.write(f"Port {SSH_PORT}\nListenAddress {THERE}\n"
                    f"HostKey {d}/host_key\nPidFile {d}/sshd.pid\n"
                    f"AuthorizedKeysFile {d}/authorized_keys\n"
                    "PermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    f"UsePAM {'yes' if locked else 'no'}\nStrictModes no\n"
                    "PrintMotd no\nMaxStartups 100\nMaxSessions 100\n")
        # sshd's privilege separation directory (Debian's service makes it).
        self.made_run_sshd = not os.path.isdir("/run/sshd")
        os.makedirs("/run/sshd", exist_ok=True)
        self.sshd_log = open(os.path.join(d, "sshd.log"), "wb")
        self.sshd = subprocess.Popen(
            ["ip", "netns", "exec", self.there, SSHD, "-D", "-e", "-f", conf],
            stdout=self.sshd_log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.ssh = (f"ssh -F /dev/null -o StrictHostKeyChecking=no "
                    f"-o UserKnownHostsFile=/dev/null -o BatchMode=yes "
                    f"-o LogLevel=ERROR -o ConnectTimeout=5 -i {self.key} "
                    f"-p {SSH_PORT} -l root")
        deadline = time.time() + 15
        while True:
            p = subprocess.run(self.in_here(self.ssh.split() + [THERE, "echo", "ok"]),
                               capture_output=True, text=True, timeout=15)
            if p.stdout.strip() == "ok":
                return
            if time.time() > deadline or self.sshd.poll() is not None:
                raise Failure(f"no ssh to {THERE}: {p.stderr.strip()}; sshd log: "
                              f"{open(os.path.join(d, 'sshd.log')).read()[-500:]}")
            time.sleep(0.2)

    def in_here(self, cmd):
        return ["ip", "netns", "exec", self.here] + cmd

    def ns_of(self, pid):
        return sh("ip", "netns", "identify", str(pid), check_rc=False).stdout.strip()

    def caf_nodes(self):
        """Every caf-node in either namespace, and every caf-node anywhere
        that runs in this test's directory: none may be left."""
        found = set()
        for ns in self.made:
            for pid in netns_pids(ns):
                argv = cmdline(pid)
                if argv and argv[0].endswith(b"caf-node"):
                    found.add((pid, ns))
        for pid in (int(x) for x in os.listdir("/proc") if x.isdigit()):
            argv = cmdline(pid)
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if argv and argv[0].endswith(b"caf-node") and cwd.startswith(self.wd):
                found.add((pid, self.ns_of(pid) or "root"))
        return sorted(found)

    def destroy(self):
        # Everything in the namespaces, and anything else of this test (an
        # orphaned launcher watch, a node in its directory), then sshd.
        mine = set()
        for ns in self.made:
            mine.update(netns_pids(ns))
        for pid in (int(x) for x in os.listdir("/proc") if x.isdigit()):
            if pid == os.getpid():
                continue
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = ""
            argv = b" ".join(cmdline(pid))
            if cwd.startswith(self.wd) or self.wd.encode() in argv:
                mine.add(pid)
        for pid in mine:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.sshd is not None:
            try:
                self.sshd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
            self.sshd_log.close()
        for ns in self.made:
            sh("ip", "netns", "del", ns, check_rc=False)
        if getattr(self, "made_run_sshd", False):
            try:
                os.rmdir("/run/sshd")
            except OSError:
                pass


class LaunchCluster(Cluster):
    """The config (lb, 1 and 3 here; 2 there) and clients in "here"."""

    def __init__(self, wd, hosts):
        super().__init__(ARGS.build, wd,
                         hosts={"lb": HERE, "1": HERE, "2": THERE, "3": HERE})
        self.hosts = hosts

    def chat(self, name, script, timeout=60, drain=30):
        p = subprocess.run(self.hosts.in_here([
            os.path.join(self.bin, "caf-chat"), "--config", self.config,
            "--name", name, "--output", "jsonl", "--drain-timeout", str(drain)]),
            input=script.encode(), capture_output=True, cwd=self.dir,
            timeout=timeout)
        return p.returncode, json_lines(p.stdout.decode(), name), p.stderr.decode()

    def launch(self, *args, timeout=60):
        """Runs tools/launch in "here" to its end: (rc, stdout, stderr)."""
        p = subprocess.run(self.hosts.in_here([sys.executable, LAUNCH, "--config",
                                               "cluster.ini", "--build", "build",
                                               *args]),
                           capture_output=True, text=True, cwd=self.dir,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def launcher(self, *args):
        """Starts tools/launch in "here" and waits until the cluster is up."""
        out = open(os.path.join(self.dir, "launch.out"), "w+")
        p = subprocess.Popen(self.hosts.in_here([sys.executable, LAUNCH,
                                                 "--config", "cluster.ini",
                                                 "--build", "build", *args]),
                             stdout=out, stderr=subprocess.STDOUT, cwd=self.dir,
                             stdin=subprocess.DEVNULL)
        p.out = out
        deadline = time.time() + 60
        while "cluster up" not in self.output(p):
            if p.poll() is not None or time.time() > deadline:
                raise Failure(f"tools/launch did not bring the cluster up "
                              f"(exit {p.poll()}):\n{self.output(p)}")
            time.sleep(0.1)
        return p

    @staticmethod
    def output(p):
        p.out.flush()
        with open(p.out.name) as f:
            return f.read()

    def pid_of(self, nid, under=None):
        with open(os.path.join(under or self.dir, "logs", f"node-{nid}.pid")) as f:
            return int(f.read())

    def wait_in_sync(self, what):
        self.wait(lambda: self.status()["ready"]
                  and all(s["alive"] for s in self.status()["servers"])
                  and len({s["delivered_upto"] for s in self.status()["servers"]})
                  == 1, 30, what)


def test_launch_over_ssh_restart_stop_and_stop_after_kill9():
    wd = os.path.realpath(workdir("cafchat-launch-"))
    hosts = None
    launcher = None
    started = time.time()

    def out_of_time(*_):
        raise Failure(f"the test ran over its {DEADLINE_S} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(DEADLINE_S)
    try:
        hosts = Hosts(wd)
        hosts.start_sshd()
        c = LaunchCluster(wd, hosts)  # writes wd/cluster.ini
        # "build" here is the real build; over there (the same filesystem)
        # tools/launch looks for <remote-dir>/build.
        os.symlink(os.path.abspath(ARGS.build), os.path.join(wd, "build"))
        ssh = ["--ssh", hosts.ssh]

        # -- start only what can run --------------------------------------------
        os.makedirs(os.path.join(wd, "empty"))
        rc, out, err = c.launch(*ssh, "--remote-dir", os.path.join(wd, "empty"))
        check(rc == 1 and THERE in err and "no caf-node" in err,
              f"missing binary over there: exit {rc}, {err}")
        fake = os.path.join(wd, "other", "build", "bin")
        os.makedirs(fake)
        with open(os.path.join(fake, "caf-node"), "w") as f:
            f.write("#!/bin/sh\necho 'caf-node 0.0.1 (git 0000000)'\n")
        os.chmod(os.path.join(fake, "caf-node"), 0o755)
        rc, out, err = c.launch(*ssh, "--remote-dir", os.path.join(wd, "other"))
        check(rc == 1 and THERE in err and "0.0.1" in err,
              f"another version over there: exit {rc}, {err}")
        rc, out, err = c.launch("--ssh", hosts.ssh.replace(f"-p {SSH_PORT}",
                                                           f"-p {SSH_PORT + 1}"))
        check(rc == 1 and THERE in err and "not reachable" in err,
              f"unreachable host: exit {rc}, {err}")
        check(hosts.caf_nodes() == [], f"a refused launch started nodes: "
                                       f"{hosts.caf_nodes()}")

        # -- a cluster across the two hosts ------------------------------------
        launcher = c.launcher(*ssh)
        c.wait_in_sync("three servers across the hosts")
        pid2 = c.pid_of(2)
        check(hosts.ns_of(pid2) == hosts.there, f"server 2 runs in "
                                                f"'{hosts.ns_of(pid2)}'")
        check(hosts.ns_of(c.pid_of(1)) == hosts.here, "server 1 is not here")
        rc, objs, err = c.chat("alice", "hello from here\nacross hosts\n")
        check(rc == 0, f"alice: {err}")
        c.wait_in_sync("server 2 to deliver alice's messages")

        # Kill the remote server; `restart 2` brings it back over there.
        os.kill(pid2, signal.SIGKILL)
        c.wait(lambda: "node   2 exited" in c.output(launcher), 15,
               "the launcher to notice that server 2 exited")
        rc, out, err = c.launch("restart", "2")
        check(rc == 0 and "node   2 restarted" in out, f"restart 2: exit {rc}, "
                                                      f"{out}{err}")
        new2 = c.pid_of(2)
        check(new2 != pid2 and hosts.ns_of(new2) == hosts.there,
              f"server 2 after restart: pid {new2} in '{hosts.ns_of(new2)}'")
        rc, objs, err = c.chat("bob", "after the restart\n")
        check(rc == 0, f"bob: {err}")
        texts = [o["text"] for o in objs if "event" not in o]
        check(texts == ["hello from here", "across hosts", "after the restart"],
              f"history: {texts}")
        c.wait_in_sync("the restarted server 2 to catch up")

        # Ctrl-C stops every node on both hosts.
        launcher.send_signal(signal.SIGINT)
        rc = launcher.wait(timeout=40)
        out = c.output(launcher)
        check(rc == 0 and "all nodes stopped" in out
              and f"node   2 stopped (pid {new2} on {THERE})" in out,
              f"launcher after SIGINT: exit {rc}\n{out}")
        check(hosts.caf_nodes() == [], f"left running after SIGINT: "
                                       f"{hosts.caf_nodes()}")

        # -- --deploy, then the launcher killed with -9 ------------------------
        shutil.rmtree(os.path.join(wd, "data"))
        shutil.rmtree(os.path.join(wd, "logs"))
        deployed = os.path.join(wd, "deployed")
        launcher = c.launcher(*ssh, "--deploy", "--remote-dir", deployed)
        check("deployed" in c.output(launcher), c.output(launcher))
        for f in ("bin/caf-node", "bin/caf-chat", "cluster.ini"):
            check(os.path.isfile(os.path.join(deployed, f)), f"no {f} deployed")
        pid2 = c.pid_of(2, under=deployed)
        check(os.readlink(f"/proc/{pid2}/exe") ==
              os.path.join(deployed, "bin", "caf-node")
              and hosts.ns_of(pid2) == hosts.there,
              f"server 2 does not run the deployed binary over there: "
              f"{os.readlink(f'/proc/{pid2}/exe')}")
        c.wait_in_sync("the deployed cluster")
        rc, objs, err = c.chat("carol", "deployed\n")
        check(rc == 0, f"carol: {err}")

        launcher.kill()
        launcher.wait(timeout=10)
        launcher = None
        rc, out, err = c.launch("status")
        rows = {l.split()[0]: l for l in out.splitlines()[1:]}
        check(rc == 0 and len(rows) == 4 and all("running, pid" in r
                                                 for r in rows.values()),
              f"status after kill -9 of the launcher: exit {rc}\n{out}{err}")
        check(THERE in rows["2"] and f"pid {pid2}" in rows["2"],
              f"status of node 2: {rows['2']}")
        rc, out, err = c.launch("stop")
        check(rc == 0 and "all nodes stopped" in out, f"stop: exit {rc}\n{out}{err}")
        check(hosts.caf_nodes() == [], f"left running after stop: "
                                       f"{hosts.caf_nodes()}")
        rc, out, err = c.launch("status")
        check(rc == 3 and out.count("not running") == 4,
              f"status after stop: exit {rc}\n{out}{err}")
        print(f"        ({time.time() - started:.0f} s)", flush=True)
    except Failure as e:
        logs = ""
        for d in (os.path.join(wd, "logs"), os.path.join(wd, "deployed", "logs")):
            if os.path.isdir(d):
                for f in sorted(os.listdir(d)):
                    if f.endswith(".log"):
                        with open(os.path.join(d, f), errors="replace") as fh:
                            logs += f"\n--- {f}:\n{fh.read()[-400:]}"
        if launcher is not None:
            logs += f"\n--- launcher:\n{LaunchCluster.output(launcher)[-1500:]}"
        raise Failure(f"{e}{logs}")
    finally:
        signal.alarm(0)
        if launcher is not None and launcher.poll() is None:
            launcher.kill()
        if hosts is not None:
            hosts.destroy()
        shutil.rmtree(wd, ignore_errors=True)


def unavailable():
    if os.geteuid() != 0:
        return "not root"
    for tool in (SSHD, "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return f"no {tool} (tools/setup --tests installs it)"
    probe = f"{TAG}-probe"
    p = sh("ip", "netns", "add", probe, check_rc=False)
    if p.returncode != 0:
        return p.stderr.strip() or "ip netns add failed"
    sh("ip", "netns", "del", probe, check_rc=False)
    return None


if __name__ == "__main__":
    why = unavailable()
    if why:
        print(f"  skip  launch over ssh: {why}")
        sys.exit(0)
    run_tests([test_launch_over_ssh_restart_stop_and_stop_after_kill9])
