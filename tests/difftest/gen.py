#!/usr/bin/python3
"""gen.py: random firewall rule files for the differential test (tests/difftest/run).

gen(fmt, seed) -> text of one file, "ipt" (iptables-restore format) or "nft" (nft -f). The
same seed always gives the same file. The files use the constructs real instances use (see
issue 15): tables, chains, policies, jumps, gotos, returns, the restore commands applied in
order, matches on protocol, ports, multiport, addresses, iprange, conntrack, recent, hashlimit,
connlimit, limit, tcp flags, interfaces; targets ACCEPT, DROP, REJECT, RETURN, QUEUE, NFQUEUE,
REDIRECT, DNAT, LOG, MARK; nft sets, maps, verdict maps, defines, delete/flush, nat, netdev.
gen_pair(fmt, seed) adds, for ipt and ipt6, ipset matches (-m set --match-set, negated,
--return-nomatch, a SET target) and the persisted sets they name (`ipset save` format).

The addresses are those of the judge's namespaces: the server 192.0.2.1 (device v0), the
protected network 203.0.113.0/24 (clients .10 and .77), the unprotected client 198.51.100.20.
Ports: 22 (sshd), 8080 (another listener), 2222 (nothing listens).
"""
import random
import sys

PROT = ["203.0.113.0/24", "203.0.113.10", "203.0.113.10/32", "203.0.113.77", "203.0.113.0/25",
        "203.0.113.64/26", "203.0.0.0/16"]
UNPROT = ["198.51.100.20", "198.51.100.0/24", "10.0.0.0/8", "192.0.2.0/24"]
ANY = ["0.0.0.0/0"]


def addr(r):
    k = r.random()
    if k < 0.45:
        return r.choice(PROT)
    if k < 0.9:
        return r.choice(UNPROT)
    return r.choice(ANY)


def port(r):
    return r.choice(["22", "22", "22", "8080", "2222", "80", "1:1024", "20:30", "8000:9000",
                     "ssh", "1024:65535"])


# ---- iptables-restore ----

IPT_TABLES = {
    "filter": ["INPUT", "FORWARD", "OUTPUT"],
    "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    "raw": ["PREROUTING", "OUTPUT"],
}


def ipt_matches(r, table, chain):
    m = []
    proto = None
    k = r.random()
    if k < 0.55:
        proto = r.choice(["tcp", "tcp", "tcp", "TCP", "Tcp", "6"])
    elif k < 0.65:
        proto = r.choice(["udp", "icmp", "all"])
    neg = bool(proto) and r.random() < 0.05
    if proto:
        m.append(("! " if neg else "") + "-p " + proto)
    if r.random() < 0.4:
        m.append(("! " if r.random() < 0.1 else "") + "-s " + addr(r))
    if r.random() < 0.1:
        m.append("-d " + r.choice(["192.0.2.1", "192.0.2.0/24", "127.0.0.1", "0.0.0.0/0"]))
    if chain in ("INPUT", "PREROUTING") and r.random() < 0.12:
        m.append(("! " if r.random() < 0.3 else "") + "-i " + r.choice(["lo", "v0", "eth+"]))
    if chain in ("OUTPUT", "POSTROUTING") and r.random() < 0.1:
        m.append("-o " + r.choice(["lo", "v0"]))
    # iptables loads a port match's module by the protocol's name as written: only "tcp"
    # works without "-m tcp", and multiport checks the name too
    tcpish = proto and proto.lower() in ("tcp", "6") and not neg
    lower = proto == "tcp"
    if tcpish and r.random() < 0.75:
        k = r.random()
        if k < 0.6 or not lower:
            m.append("-m tcp " * (r.random() < 0.6 or not lower) +
                     ("! " if r.random() < 0.07 else "") + "--dport " + port(r))
        elif k < 0.8:
            m.append("-m multiport --dports " +
                     ",".join(r.sample(["22", "80", "443", "8080", "2222", "1000:2000"],
                                       r.randint(1, 3))))
        else:
            m.append("-m tcp --sport " + r.choice(["1024:65535", "22", "0:1023"]))
    if tcpish and r.random() < 0.08:
        m.append(r.choice(["-m tcp --syn", "-m tcp --tcp-flags SYN,ACK SYN", "-m tcp ! --syn"]))
    if r.random() < 0.25:
        st = ",".join(r.sample(["NEW", "ESTABLISHED", "RELATED", "INVALID"], r.randint(1, 2)))
        m.append(r.choice(["-m conntrack --ctstate ", "-m state --state "]) + st)
    if r.random() < 0.05:
        m.append("-m iprange --src-range " + r.choice(
            ["203.0.113.1-203.0.113.100", "198.51.100.1-198.51.100.50", "203.0.113.0-203.0.114.0"]))
    if r.random() < 0.04:
        m.append("-m comment --comment \"rule %d\"" % r.randint(1, 99))
    if r.random() < 0.04:
        m.append("-m addrtype --dst-type " + r.choice(["LOCAL", "UNICAST", "BROADCAST"]))
    if tcpish and r.random() < 0.1:
        m.append(r.choice([
            "-m recent --name SSH --set --rsource",
            "-m recent --name SSH --update --seconds 60 --hitcount 4 --rsource",
            "-m recent --name SSH --rcheck --seconds 60 --hitcount 2",
            "-m hashlimit --hashlimit-above 5/min --hashlimit-burst 5 --hashlimit-mode srcip "
            "--hashlimit-name h%d" % r.randint(1, 3),
            "-m connlimit --connlimit-above 3 --connlimit-mask 32",
            "-m limit --limit 10/min --limit-burst 20",
        ]))
    return m


def ipt_target(r, table, chain, users, callable_users):
    k = r.random()
    if users and callable_users and k < 0.2:
        return r.choice(["-j ", "-j ", "-g "]) + r.choice(callable_users)
    if table == "nat":
        if chain in ("PREROUTING", "OUTPUT"):
            return r.choice(["-p tcp -j REDIRECT --to-ports 2222", "-j DNAT --to-destination 10.9.9.9",
                             "-j ACCEPT", "-j RETURN", "-j LOG", "-p tcp -j DNAT --to-destination 192.0.2.1:22"])
        if chain == "POSTROUTING":
            return r.choice(["-j MASQUERADE", "-j ACCEPT", "-j RETURN"])
        return r.choice(["-j SNAT --to-source 192.0.2.1", "-j ACCEPT", "-j RETURN"])
    opts = ["-j ACCEPT", "-j ACCEPT", "-j DROP", "-j DROP", "-j RETURN",
            "-j LOG --log-prefix \"x \"", "-j NFQUEUE --queue-num 3",
            "-j NFQUEUE --queue-num 4 --queue-bypass", "-j QUEUE"]
    if table == "filter":
        opts += ["-j REJECT", "-j REJECT --reject-with tcp-reset", "-j REJECT",
                 "-j DROP", "-j ACCEPT"]
    if table == "mangle":
        opts += ["-j MARK --set-mark 1", "-j CONNMARK --set-mark 2", "-j TOS --set-tos 0x10"]
    if table == "raw":
        opts += ["-j CT --notrack", "-j NOTRACK", "-j TRACE"]
    t = r.choice(opts)
    if "tcp-reset" in t:
        return t  # needs -p tcp: the caller checks
    return t


def ipt_rule(r, table, chain, users, callable_users):
    m = ipt_matches(r, table, chain)
    t = ipt_target(r, table, chain, users, callable_users)
    if table == "nat" and chain in users:
        t = r.choice(["-j RETURN", "-j ACCEPT", "-j LOG", "-j DNAT --to-destination 10.9.9.9"])
    if "tcp-reset" in t and not any(x.lstrip().lower().startswith(("-p tcp", "-p 6"))
                                      for x in m):
        t = "-j REJECT"
    return " ".join(m + [t]).replace("  ", " ").strip()


def gen_ipt(r):
    out = []
    tables = ["filter"]
    for t in ("raw", "mangle", "nat"):
        if r.random() < 0.3:
            tables.insert(0, t) if t != "nat" else tables.append(t)
    r.shuffle(tables)
    for table in tables:
        builtins = IPT_TABLES[table]
        out.append("*" + table)
        pol = {}
        for c in builtins:
            p = "ACCEPT"
            if table == "filter" or (table in ("mangle", "raw") and r.random() < 0.2):
                p = r.choice(["ACCEPT", "DROP", "DROP"]) if c != "FORWARD" else "DROP"
            pol[c] = p
            out.append(":%s %s [0:0]" % (c, p))
        nusers = r.randint(0, 3)
        users = ["u%d" % i for i in range(nusers)]
        for u in users:
            out.append(":%s - [0:0]" % u)
        # a user chain may only jump to later ones: no loops
        lens = {c: 0 for c in builtins + users}
        entry = [c for c in builtins if c in ("INPUT", "PREROUTING", "OUTPUT")]
        nrules = r.randint(1, 14)
        for _ in range(nrules):
            chain = r.choice(entry * 3 + users + builtins)
            later = [u for u in users if chain not in users or users.index(u) > users.index(chain)]
            k = r.random()
            rule = ipt_rule(r, table, chain, users, later)
            if "-j RETURN" in rule and chain in builtins and table == "nat" and r.random() < 0.5:
                rule = rule.replace("-j RETURN", "-j ACCEPT")
            if k < 0.72 or lens[chain] == 0:
                out.append("-A %s %s" % (chain, rule))
                lens[chain] += 1
            elif k < 0.82:
                pos = r.randint(1, lens[chain] + 1)
                out.append("-I %s %d %s" % (chain, pos, rule) if r.random() < 0.8
                           else "-I %s %s" % (chain, rule))
                lens[chain] += 1
            elif k < 0.88:
                out.append("-D %s %d" % (chain, r.randint(1, lens[chain])))
                lens[chain] -= 1
            elif k < 0.93:
                out.append("-R %s %d %s" % (chain, r.randint(1, lens[chain]), rule))
            elif k < 0.96:
                out.append("-F %s" % chain)
                lens[chain] = 0
            elif k < 0.98 and chain in builtins and table == "filter":
                out.append("-P %s %s" % (chain, r.choice(["ACCEPT", "DROP"])))
            else:
                out.append("-Z %s" % chain)
        # -D by rule: delete an exact copy appended for the purpose, or a new -N/-X chain
        if r.random() < 0.15:
            c = r.choice(entry)
            rule = ipt_rule(r, table, c, [], [])
            out.append("-A %s %s" % (c, rule))
            if r.random() < 0.5:
                out.append("-A %s -p tcp --dport 8080 -j ACCEPT" % c)
            out.append("-D %s %s" % (c, rule))
        if r.random() < 0.1:
            out.append("-N tmp")
            out.append("-A tmp -j DROP")
            out.append("-F tmp")
            out.append("-X tmp")
        out.append("COMMIT")
    return "\n".join(out) + "\n"


# ---- nft ----

def nft_match(r, fam, hook):
    m = nft_match1(r, fam, hook)
    if fam == "netdev":
        m = [x for x in m if "@" not in x and not x.startswith(("ct ", "meter"))]
    # one transport protocol per rule
    if any(x.startswith(("udp", "meta l4proto udp", "ip protocol")) for x in m):
        m = [x for x in m if not x.startswith(("tcp", "meter"))]
    return m


def nft_match1(r, fam, hook):
    m = []
    k = r.random()
    if k < 0.5:
        d = r.choice(["22", "22", "8080", "2222", "{ 22, 80 }", "{ 22, 8080 }", "1-1024",
                      "ssh", "$SSH", "!= 22", "< 1024", "@ports"])
        m.append("tcp dport " + d)
    elif k < 0.6:
        m.append(r.choice(["udp dport 53", "meta l4proto tcp", "meta l4proto udp",
                           "ip protocol tcp", "ip protocol icmp"]))
    if r.random() < 0.35:
        a = r.choice(PROT + UNPROT + ["@prot", "@ban", "{ 203.0.113.10, 198.51.100.20 }",
                                      "$ADMIN"])
        m.append("ip saddr " + ("!= " if r.random() < 0.08 else "") + a)
    if r.random() < 0.2 and hook not in ("ingress",):
        m.append("ct state " + r.choice(["new", "established,related", "established",
                                         "invalid", "{ new, established }"]))
    if r.random() < 0.1 and hook in ("input", "prerouting", "ingress"):
        m.append(r.choice(["iif lo", "iifname \"v0\"", "iif != lo"]))
    if r.random() < 0.08:
        m.append(r.choice(["tcp flags syn", "tcp flags & (syn|ack) == syn"]))
    if r.random() < 0.08:
        m.append(r.choice(["limit rate over 10/minute", "ct state new ct count over 3",
                           "limit rate 100/second", "meter m%d { ip saddr limit rate over 5/minute }"
                           % r.randint(1, 9)]))
    return m


def nft_verdict(r, nat, chains_later):
    if nat:
        return r.choice(["redirect to :2222", "dnat ip to 10.9.9.9", "accept", "return",
                         "counter", "dnat ip to 192.0.2.1:22"])
    opts = ["accept", "accept", "drop", "drop", "reject", "reject with tcp reset", "return",
            "counter", "log prefix \"x \"",
            "tcp dport vmap { 22 : drop, 8080 : accept }",
            "tcp dport vmap { 22 : accept, 80 : drop }", "continue"]
    if chains_later:
        opts += ["jump " + r.choice(chains_later), "goto " + r.choice(chains_later)]
    return r.choice(opts)


def nft_rule(r, fam, hook, nat, later):
    m = nft_match(r, fam, hook)
    v = nft_verdict(r, nat, later)
    if v.startswith("reject with tcp") and not any(x.startswith("tcp dport") for x in m):
        v = "reject"
    if "vmap" in v:
        return " ".join([x for x in m if x.startswith(("ip saddr", "ct state"))] + [v])
    if nat and ("redirect" in v or ":22" in v) and not any(x.startswith("tcp dport") for x in m):
        m = [x for x in m if not x.startswith(("meta l4proto", "ip protocol", "udp"))]
        m.insert(0, "meta l4proto tcp")
    if "meter" in " ".join(m) and r.random() < 2:
        # meters need a key the set can hold: keep it simple
        m = [x for x in m if not x.startswith("meter")] + ["meter mm { ip saddr limit rate over 5/minute }"]
    return " ".join(m + [v])


def gen_nft(r):
    out = ["flush ruleset", "define SSH = 22", "define ADMIN = { 203.0.113.0/24 }"]
    ntables = r.randint(1, 3)
    names = []
    for ti in range(ntables):
        fam = r.choice(["inet", "inet", "ip"])
        kind = r.choice(["filter", "filter", "filter", "nat", "netdev"])
        if kind == "netdev":
            fam = "netdev"
        name = "t%d" % ti
        names.append((fam, name))
        out.append("table %s %s {" % (fam, name))
        if fam != "netdev":
            out.append("\tset prot { type ipv4_addr; flags interval; elements = { 203.0.113.0/24 } }")
            out.append("\tset ban { type ipv4_addr; elements = { %s } }" %
                       r.choice(["203.0.113.10", "198.51.100.20", "203.0.113.10, 198.51.100.20",
                                 "203.0.113.77"]))
            out.append("\tset ports { type inet_service; elements = { 22, 8080 } }")
        regs = ["r%d" % i for i in range(r.randint(0, 2))] if fam != "netdev" else []
        if kind == "nat":
            base = [("prerouting", "nat", "dstnat"), ("input", "filter", "0")]
        elif kind == "netdev":
            base = [("ingress", "filter", "0")]
        else:
            base = r.sample([("input", "filter", "0"), ("input", "filter", "filter"),
                             ("prerouting", "filter", "raw"), ("prerouting", "filter", "-150"),
                             ("output", "filter", "0")], r.randint(1, 2))
        for ci, (hook, typ, prio) in enumerate(base):
            out.append("\tchain b%d {" % ci)
            pol = r.choice(["accept", "drop"]) if typ == "filter" else "accept"
            if hook == "output" and r.random() < 0.7:
                pol = "accept"
            if kind == "netdev":
                dev = r.choice(["lo", "v0", "v0"])
                out.append("\t\ttype filter hook ingress devices = { %s } priority %s; policy %s;"
                           % (dev, prio, pol))
            else:
                out.append("\t\ttype %s hook %s priority %s; policy %s;" % (typ, hook, prio, pol))
            for _ in range(r.randint(0, 6)):
                out.append("\t\t" + nft_rule(r, fam, hook, typ == "nat", regs))
            out.append("\t}")
        for ri, rc in enumerate(regs):
            out.append("\tchain %s {" % rc)
            for _ in range(r.randint(0, 4)):
                out.append("\t\t" + nft_rule(r, fam, "input", False, regs[ri + 1:]))
            out.append("\t}")
        out.append("}")
        if r.random() < 0.12:
            out.append("add rule %s %s b0 %s" % (fam, name, nft_rule(r, fam, "input", False, [])))
        if r.random() < 0.08:
            out.append("flush chain %s %s b0" % (fam, name))
    if r.random() < 0.15:
        fam, name = r.choice(names)
        out.append("delete table %s %s" % (fam, name))
        out.append("table %s %s {" % (fam, name))
        out.append("\tchain again {")
        hook = "ingress devices = { v0 }" if fam == "netdev" else "input"
        out.append("\t\ttype filter hook %s priority 0; policy %s;" % (hook, r.choice(["accept", "drop"])))
        for _ in range(r.randint(0, 3)):
            out.append("\t\t" + nft_rule(r, "netdev", "input", False, []))
        out.append("\t}")
        out.append("}")
    return "\n".join(out) + "\n"


# ip6tables files: the iptables file with every address moved to the IPv6 namespaces (server
# 2001:db8:1::1, protected 2001:db8:2::/64 with clients ::10 and ::77, unprotected
# 2001:db8:3::20). Longest words first.
V6 = [
    ("203.0.113.1-203.0.113.100", "2001:db8:2::1-2001:db8:2::100"),
    ("198.51.100.1-198.51.100.50", "2001:db8:3::1-2001:db8:3::50"),
    ("203.0.113.0-203.0.114.0", "2001:db8:2::-2001:db8:2:1::"),
    ("--to-destination 192.0.2.1:22", "--to-destination [2001:db8:1::1]:22"),
    ("--to-destination 10.9.9.9", "--to-destination fd00::9"),
    ("203.0.113.10/32", "2001:db8:2::10/128"), ("203.0.113.64/26", "2001:db8:2:0:4000::/66"),
    ("203.0.113.0/24", "2001:db8:2::/64"), ("203.0.113.0/25", "2001:db8:2::/65"),
    ("203.0.0.0/16", "2001:db8::/32"), ("198.51.100.0/24", "2001:db8:3::/64"),
    ("192.0.2.0/24", "2001:db8:1::/64"), ("203.0.113.10", "2001:db8:2::10"),
    ("203.0.113.77", "2001:db8:2::77"), ("198.51.100.20", "2001:db8:3::20"),
    ("10.0.0.0/8", "fd00::/8"), ("192.0.2.1", "2001:db8:1::1"), ("127.0.0.1", "::1"),
    ("0.0.0.0/0", "::/0"), ("-p icmp", "-p icmpv6"), ("--connlimit-mask 32", "--connlimit-mask 128"),
]


def to_v6(text):
    for a, b in V6:
        text = text.replace(a, b)
    return text


NFT6 = [("table ip ", "table ip6 "), ("ip saddr", "ip6 saddr"), ("ip protocol tcp", "ip6 nexthdr tcp"),
        ("ip protocol icmp", "ip6 nexthdr ipv6-icmp"), ("ipv4_addr", "ipv6_addr"),
        ("dnat ip to 192.0.2.1:22", "dnat ip6 to [2001:db8:1::1]:22"),
        ("dnat ip to 10.9.9.9", "dnat ip6 to fd00::9")] + [
    (a, b) for a, b in V6 if not a.startswith(("-", "--"))] + [
    ("203.0.113.1-203.0.113.100", "2001:db8:2::1-2001:db8:2::100")]


def to_nft6(text, r):
    for a, b in NFT6:
        text = text.replace(a, b)
    out = []
    for line in text.split("\n"):
        out.append(line)
        # most rule sets let ICMPv6 (neighbour discovery) through first
        if "type filter hook" in line and r.random() < 0.8:
            out.append("\t\tmeta l4proto ipv6-icmp accept")
    return "\n".join(out)


# ---- ipsets (ipt, ipt6): the persisted sets and the rules' matches on them ----

SET_NETS = ["203.0.113.0/24", "203.0.113.10", "203.0.113.0/25", "203.0.113.64/26", "203.0.0.0/16",
            "198.51.100.20", "198.51.100.0/24", "10.0.0.0/8", "203.0.113.10/32", "203.0.113.77",
            "203.0.113.1-203.0.113.100"]
SET_IPS = ["203.0.113.10", "203.0.113.77", "198.51.100.20", "192.0.2.1"]
# name: (type, dimensions); "oth" is a type outside sshrescue's model
SETS = {"blk": ("hash:net", 1), "hip": ("hash:ip", 1), "ipp": ("hash:ip,port", 2),
        "npt": ("hash:net,port", 2), "lst": ("list:set", 1), "bmp": ("bitmap:ip", 1),
        "oth": ("hash:net,iface", 2)}


def set_port(r):
    return r.choice(["tcp:22", "22", "tcp:8080", "udp:22", "tcp:1024-65535", "tcp:20-30"])


def gen_ipsets(r, v6):
    out = ["# ipset save"] if r.random() < 0.3 else []
    names = [n for n in SETS if not (v6 and n == "bmp")]
    for name in names:
        if r.random() < 0.02:
            continue  # not persisted: iptables-restore refuses a rule naming it
        typ = SETS[name][0]
        fam = " family inet6" if v6 and typ != "list:set" else ""
        opts = " range 203.0.113.0/24" if typ == "bitmap:ip" else ""
        out.append("create %s %s%s%s" % (name, typ, fam, opts))
        for _ in range(r.randint(0, 4)):
            if typ == "hash:net":
                # ipset takes IPv4 ranges only
                e = r.choice([n for n in SET_NETS if not (v6 and "-" in n)]) + \
                    (" nomatch" if r.random() < 0.2 else "")
            elif typ == "hash:ip":
                e = r.choice(SET_IPS)
            elif typ == "hash:ip,port":
                e = "%s,%s" % (r.choice(SET_IPS), set_port(r))
            elif typ == "hash:net,port":
                e = "%s,%s%s" % (r.choice([n for n in SET_NETS if "-" not in n]), set_port(r),
                                 " nomatch" if r.random() < 0.2 else "")
            elif typ == "list:set":
                e = r.choice(["blk", "hip"])
            elif typ == "bitmap:ip":
                e = r.choice(["203.0.113.10", "203.0.113.77", "203.0.113.0/25", "203.0.113.0/24"])
            else:
                e = r.choice(["203.0.113.0/24,v0", "198.51.100.0/24,v0", "10.0.0.0/8,lo"])
            out.append("add %s %s" % (name, e))
    return "\n".join(out) + "\n"


def set_match(r, v6):
    name = r.choice([n for n in SETS if not (v6 and n == "bmp")])
    dim = SETS[name][1]
    if dim == 1:
        flags = r.choice(["src", "src", "src", "dst"])
    else:
        flags = r.choice(["src,dst", "src,dst", "src,src", "src"])
    m = "-m set %s--match-set %s %s" % ("! " if r.random() < 0.1 else "", name, flags)
    if name in ("blk", "npt") and r.random() < 0.15:
        m += " --return-nomatch"
    return m


def add_set_matches(text, r, v6):
    """Some rules get a set match, a few files a SET target that fills a set as packets come."""
    lines = text.split("\n")
    deleted = {l[3:].split(" ", 1)[-1] for l in lines if l.startswith("-D ")}
    out = []
    for line in lines:
        w = line.split(" ")
        if w[0] in ("-A", "-I", "-R") and len(w) > 2 and r.random() < 0.18 and \
                line.split(" ", 2)[-1] not in deleted:
            at = 3 if len(w) > 3 and w[2].isdigit() else 2
            w[at:at] = [set_match(r, v6)]
            line = " ".join(w)
        out.append(line)
        if line == "*filter" and r.random() < 0.06:
            out.append("@SET@")
        if line == "*filter" and r.random() < 0.6:
            out.append("@BLOCK@")
    if "@BLOCK@" in out:
        # the common case: a block list that comes first (and may hold the protected clients)
        i = out.index("@BLOCK@")
        out.pop(i)
        while out[i] != "COMMIT":
            i += 1
        out.insert(i, "-I INPUT 1 -m set --match-set %s src -j %s" % (
            r.choice(["blk", "blk", "hip", "lst"] + ([] if v6 else ["bmp"])),
            r.choice(["DROP", "REJECT"])))
    text = "\n".join(out)
    if "@SET@" in text:
        i = out.index("@SET@")
        out.pop(i)
        while out[i].startswith(":"):
            i += 1
        out.insert(i, "-A INPUT -p tcp --dport 22 -j SET --add-set %s src" %
                   r.choice(["blk", "hip"]))
        text = "\n".join(out)
    return text


def gen_pair(fmt, seed):
    """The rules file and, for ipt and ipt6, the persisted sets (None: none)."""
    text = gen(fmt, seed)
    if fmt not in ("ipt", "ipt6"):
        return text, None
    r = random.Random("%s-sets-%d" % (fmt, seed))
    if r.random() < 0.5:
        return text, None
    v6 = fmt == "ipt6"
    text = add_set_matches(text, r, v6)
    sets = gen_ipsets(r, v6)
    if v6:
        sets = to_v6(sets)
    return text, sets


def gen(fmt, seed):
    r = random.Random("%s-%d" % (fmt, seed))
    if fmt == "ipt6":
        text = to_v6(gen_ipt(r))
        # most IPv6 rule sets let neighbour discovery through first, as the templates do
        if r.random() < 0.8:
            lines = text.split("\n")
            i = lines.index("*filter") + 1
            while lines[i].startswith(":"):
                i += 1
            lines[i:i] = ["-A INPUT -p ipv6-icmp -j ACCEPT", "-A OUTPUT -p ipv6-icmp -j ACCEPT"]
            text = "\n".join(lines)
        return text
    if fmt == "nft6":
        return to_nft6(gen_nft(r), r)
    return gen_ipt(r) if fmt == "ipt" else gen_nft(r)


if __name__ == "__main__":
    # gen.py FMT SEED [sets]: the rules file, or with "sets" the persisted ipsets that go with it
    rules, sets = gen_pair(sys.argv[1], int(sys.argv[2]))
    sys.stdout.write((sets or "") if sys.argv[3:] == ["sets"] else rules)
