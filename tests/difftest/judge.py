#!/usr/bin/python3
"""judge.py: the differential test of the firewall policy against the real loaders.

Runs inside the server namespace made by tests/difftest/run (device v0, 192.0.2.1/24); the
client namespace (203.0.113.10, 203.0.113.77, 198.51.100.20) is entered with setns(2) for each
batch of connections. For each seed: gen.py writes a rule file; sshrescue's verdict (check,
then repair) on an instance root holding it is compared with what the real loader
(iptables-legacy-restore, or nft -f) makes of the file: a TCP connection from a protected
address to port 22. A disagreement is: check says ok (exit 0) or repair says repaired / nothing
to do (exit 1 / 0) while a protected address cannot connect; the loader refuses a repaired file;
or the repair changes what the unprotected address, or other ports, get.

usage: judge.py FORMAT FIRST COUNT SSHRESCUE CLIENT_NETNS WORKDIR
Prints one line per disagreement (with its seed) and a summary; exits 1 on any disagreement.
"""
import ctypes
import os
import select
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

SRV, SRV6 = "192.0.2.1", "2001:db8:1::1"
PROT = ["203.0.113.10", "203.0.113.77"]
UNPROT = "198.51.100.20"
PROBES = [(PROT[0], 22), (PROT[1], 22), (UNPROT, 22), (PROT[0], 8080), (UNPROT, 8080)]
PROT6 = ["2001:db8:2::10", "2001:db8:2::77"]
UNPROT6 = "2001:db8:3::20"
PROBES6 = [(PROT6[0], 22), (PROT6[1], 22), (UNPROT6, 22), (PROT6[0], 8080), (UNPROT6, 8080)]
FAST, SLOW = 0.04, 1.0
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)

IPT_RESET = """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
"""


class Judge:
    def __init__(self, fmt, sshrescue, client_ns, work):
        self.fmt, self.bin, self.work = fmt, sshrescue, work
        self.own_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.client_ns = os.open(client_ns, os.O_RDONLY)
        self.listeners = []
        for fam, any_ in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            for p in (22, 8080):
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((any_, p))
                s.listen(4096)
                s.setblocking(False)
                self.listeners.append(s)
        self.v6 = fmt in ("ipt6", "nft6")
        self.probes = PROBES6 if self.v6 else PROBES
        self.root = os.path.join(work, "root")
        for d in ("etc/iptables", "var/lib", "var/log", "usr/lib"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        with open(os.path.join(self.root, "etc/os-release"), "w") as f:
            f.write('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
        for name, text in (("hostname", "locked-out\n"),
                           ("machine-id", "0123456789abcdef0123456789abcdef\n"),
                           ("fstab", "UUID=0b7e7a0c-0000-4000-8000-000000000001 / ext4 defaults 0 1\n"),
                           ("hosts.allow", ""), ("hosts.deny", "")):
            with open(os.path.join(self.root, "etc", name), "w") as f:
                f.write(text)
        self.policy = os.path.join(work, "policy.ini")
        with open(self.policy, "w") as f:
            f.write("[hosts_access]\nenabled = no\n[denyhosts]\nenabled = no\n[fail2ban]\n"
                    "enabled = no\n[sshd]\nenabled = no\n[report]\nconsole = no\n")
        rel = {"ipt": "etc/iptables/rules.v4", "ipt6": "etc/iptables/rules.v6",
               "nft": "etc/nftables.conf", "nft6": "etc/nftables.conf"}[fmt]
        self.path = os.path.join(self.root, rel)
        # the root holds this format's file alone: what an earlier format's run left (same work
        # directory) would be judged with it
        for other in ("etc/iptables/rules.v4", "etc/iptables/rules.v6", "etc/nftables.conf",
                      "etc/iptables/ipsets"):
            if os.path.exists(os.path.join(self.root, other)):
                os.unlink(os.path.join(self.root, other))
        self.sets_path = os.path.join(self.root, "etc/iptables/ipsets")
        self.had_sets = False

    # The sets first, as netfilter-persistent's plugin 10-ipset loads them before the rules
    # (`ipset restore -exist`); no rule may name an old set while they are destroyed.
    def load_sets(self, sets):
        for prog in ("iptables-legacy-restore", "ip6tables-legacy-restore"):
            subprocess.run([prog], input=IPT_RESET.encode(), check=False)
        # a list:set holds its members: flushed first, every set can go
        subprocess.run(["ipset", "flush"], check=False, stderr=subprocess.DEVNULL)
        p = subprocess.run(["ipset", "destroy"], capture_output=True)
        if p.returncode:
            return False, "ipset destroy (the judge's own reset): " + p.stderr.decode(errors="replace")
        if sets is None:
            return True, ""
        p = subprocess.run(["ipset", "restore", "-exist"], input=sets.encode(),
                           capture_output=True)
        return p.returncode == 0, "ipset: " + p.stderr.decode(errors="replace")

    def load(self, text, sets=None):
        if self.fmt in ("ipt", "ipt6"):
            prog = "iptables-legacy-restore" if self.fmt == "ipt" else "ip6tables-legacy-restore"
            argv, data = [prog], IPT_RESET + text
            subprocess.run(["nft", "flush", "ruleset"], check=False)
            if sets is not None or self.had_sets:
                self.had_sets = sets is not None
                ok, err = self.load_sets(sets)
                if not ok:
                    return ok, err
        else:
            argv, data = ["nft", "-f", "-"], "flush ruleset\n" + text
            # nothing of an ipt or ipt6 run before (same namespace) may stay
            for prog in ("iptables-legacy-restore", "ip6tables-legacy-restore"):
                subprocess.run([prog], input=IPT_RESET.encode(), check=False)
        p = subprocess.run(argv, input=data.encode(), capture_output=True)
        return p.returncode == 0, p.stderr.decode(errors="replace")

    # A probe is open when the server accepts the connection: its handshake's last packet (the
    # client's first established one) got through too, not only the SYN and the SYN-ACK.
    def probe(self, probes, timeout):
        socks, keys = [], []
        libc.setns(self.client_ns, CLONE_NEWNET)
        try:
            for src, port in probes:
                v6 = ":" in src
                s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.setblocking(False)
                s.bind((src, 0))
                keys.append((src, s.getsockname()[1]))
                s.connect_ex((SRV6 if v6 else SRV, port))
                socks.append(s)
        finally:
            libc.setns(self.own_ns, CLONE_NEWNET)
        seen, failed, connected = set(), set(), set()
        end = time.monotonic() + timeout
        while True:
            for l in self.listeners:
                while True:
                    try:
                        c, peer = l.accept()
                        seen.add(peer[:2])
                        c.close()
                    except BlockingIOError:
                        break
            if all(k in seen or i in failed for i, k in enumerate(keys)):
                break
            left = end - time.monotonic()
            if left <= 0:
                break
            pend = [s for i, s in enumerate(socks)
                    if i not in failed and i not in connected and keys[i] not in seen]
            r, w, _ = select.select(self.listeners, pend, [], min(left, 0.005))
            for s in w:
                i = socks.index(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    failed.add(i)
                else:
                    connected.add(i)
        for s in socks:
            s.close()
        return tuple(k in seen for k in keys)

    # A port found closed at the fast timeout is probed again, slowly, before it counts.
    def sure(self, probes, fast):
        again = [p for p, ok in zip(probes, fast) if not ok]
        if not again:
            return fast
        slow = dict(zip(again, self.probe(again, SLOW)))
        return tuple(ok or slow[p] for p, ok in zip(probes, fast))

    def sshrescue(self, cmd):
        p = subprocess.run([self.bin, cmd, "--root", self.root, "--policy", self.policy,
                            "--protect", "2001:db8:2::/64" if self.v6 else "203.0.113.0/24"],
                           capture_output=True)
        return p.returncode, p.stderr.decode(errors="replace")

    def one(self, seed, stats):
        text, sets = gen.gen_pair(self.fmt, seed)
        shutil.rmtree(os.path.join(self.root, "var/lib/sshrescue"), ignore_errors=True)
        with open(self.path, "w") as f:
            f.write(text)
        if sets is None:
            if os.path.exists(self.sets_path):
                os.unlink(self.sets_path)
        else:
            with open(self.sets_path, "w") as f:
                f.write(sets)
            stats["with ipsets"] += 1
        ok, err = self.load(text, sets)
        if not ok:
            stats["refused by the loader (skipped)"] += 1
            if os.environ.get("DIFFTEST_SHOW_REFUSED"):
                print("refused seed %d: %s" % (seed, err.strip()[-200:]))
            return None
        before = self.probe(self.probes, FAST)
        locked = not (before[0] and before[1])
        stats["protected locked out by the file"] += locked
        rc, out = self.sshrescue("check")
        if rc not in (0, 4):
            return "check exit %d: %s" % (rc, out.strip()[-300:])
        if rc == 0 and locked:
            before = self.sure(self.probes, before)
            locked = not (before[0] and before[1])
            if locked:
                return "check says ok, a protected client cannot connect %s" % (before,)
        if rc == 4 and not locked:
            stats["check: problem, judge: open (cautious)"] += 1
        rc2, out2 = self.sshrescue("repair")
        with open(self.path) as f:
            fixed = f.read()
        fixed_sets = None
        if sets is not None:
            with open(self.sets_path) as f:
                fixed_sets = f.read()
            if fixed_sets != sets:
                stats["  sets edited by the repair"] += 1
        if rc2 not in (0, 1, 4, 5):
            return "repair exit %d: %s" % (rc2, out2.strip()[-300:])
        if rc2 & 4:
            stats["unknown or unrepaired"] += 1
            if "unknown" in out2:
                stats["  of which the verdict is unknown"] += 1
            # what was changed must still load
            if rc2 & 1 and not self.load(fixed, fixed_sets)[0]:
                return "the loader refuses the partly repaired file"
            return None
        if rc2 == 0:
            if fixed != text or fixed_sets != sets:
                return "repair exit 0 changed the file"
            self.load(text, sets)
            if locked and not all(self.sure(self.probes[:2], self.probe(self.probes[:2], FAST))):
                return "repair says nothing to do, a protected client cannot connect"
            stats["ok"] += 1
            return None
        stats["repaired"] += 1
        ok, err = self.load(fixed, fixed_sets)
        if not ok:
            return "the loader refuses the repaired file: " + err.strip()[-300:]
        after = self.probe(self.probes, FAST)
        if not (after[0] and after[1]):
            after = self.sure(self.probes, after)
        if not (after[0] and after[1]):
            return "repaired, a protected client cannot connect %s" % (after,)
        # the unprotected client keeps what it had; a protected client may gain other ports
        # only where the rules send them on to sshd (DNAT to port 22), never lose them
        def changed(b, a):
            return b[0] != a[0] or b[2] != a[2] or (b[1] and not a[1])
        # matches with state shared by all sources (a rate without a per-source key, a
        # count) let the protected client's accepted packets change what is left for others
        stateful = any(w in text for w in ("limit", "recent", "connlimit", "quota", "ct count",
                                           "meter", "--add-set"))
        if stateful:
            stats["other traffic not compared (rates, counts)"] += 1
        elif changed(before[2:], after[2:]):
            # slow probes for both before deciding (rate limits, timing)
            self.load(text, sets)
            b = self.probe(self.probes[2:], SLOW)
            self.load(fixed, fixed_sets)
            a = self.probe(self.probes[2:], SLOW)
            if changed(b, a):
                return "the repair changed other traffic: %s -> %s" % (b, a)
        rc3, _ = self.sshrescue("check")
        if rc3 != 0:
            return "check of the repaired file exits %d" % rc3
        return None


def main():
    fmt, first, count, sshrescue, client_ns, work = sys.argv[1:7]
    first, count = int(first), int(count)
    j = Judge(fmt, sshrescue, client_ns, work)
    from collections import Counter
    stats = Counter()
    bad = 0
    t0 = time.monotonic()
    for seed in range(first, first + count):
        why = j.one(seed, stats)
        if why and os.environ.get("DIFFTEST_KEEP"):
            keep = os.environ["DIFFTEST_KEEP"]
            os.makedirs(keep, exist_ok=True)
            shutil.copy(j.path, os.path.join(keep, "%s-%d.repaired" % (fmt, seed)))
        if (seed - first + 1) % 1000 == 0:
            print("  ... %d files, %d disagreements, %.0f s" %
                  (seed - first + 1, bad + bool(why), time.monotonic() - t0), flush=True)
        if why:
            bad += 1
            print("DISAGREE %s seed %d: %s" % (fmt, seed, why), flush=True)
            print("  reproduce: python3 tests/difftest/gen.py %s %d [sets]" % (fmt, seed), flush=True)
            if bad >= int(os.environ.get("DIFFTEST_MAX_BAD", "20")):
                # enough to go on; the rest would only cost time (a broken build disagrees
                # on every file)
                print("difftest %s: stopped after %d disagreements" % (fmt, bad), flush=True)
                count = seed - first + 1
                break
    dt = time.monotonic() - t0
    print("difftest %s: %d files (seeds %d..%d), %d disagreements, %.1f s" %
          (fmt, count, first, first + count - 1, bad, dt))
    for k in sorted(stats):
        print("  %s: %d" % (k, stats[k]))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
