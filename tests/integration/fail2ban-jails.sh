#!/usr/bin/env bash
# fail2ban-jails.sh: which jails keep the owner out, sshrescue against fail2ban itself. Seeded
# random jail.d files (banactions of every family Debian's fail2ban ships, jail and bracket
# ports, protocols, action_/action_mw/direct action lists) are read twice: by sshrescue (its
# note lists the enabled jails whose bans block sshd's port 22) and by the real
# `fail2ban-client -d`, whose dump holds each jail's actions with their commands interpolated
# as the server would run them; the oracle below reads the port (--dport(s), nft dport, ipfw
# "to me", rich rules, pf) or the absence of one (the address blocked whole) from those
# commands. A jail fail2ban's commands block on port 22 that sshrescue does not count fails the
# test with its seed (the owner would stay banned); a jail sshrescue counts and the commands
# do not (a BSD action with no port) is only counted.
#   F2B_JAILS_SEEDS=N (default 10) files of 40 jails each.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/f2b.sh"

for p in fail2ban-client jq; do
	command -v "$p" >/dev/null || { echo "FAIL fail2ban-jails.sh: $p is missing"; exit 1; }
done
SEEDS=${F2B_JAILS_SEEDS:-10}
R=$T/root
t_mkroot "$R"
f2b_stock_conf "$R"
cp /etc/services "$R/etc/services"
f2b_policy >"$T/policy.ini"

cat >"$T/gen.py" <<'PY'
import random, sys
# gen.py SEED N: N jail sections, j0..j(N-1)
seed, n = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
banactions = ["iptables-multiport", "iptables-allports", "iptables", "nftables-multiport",
    "nftables-allports", "nftables", "nftables[type=allports]", "nftables[type=multiport]",
    "firewallcmd-multiport", "firewallcmd-allports", "firewallcmd-ipset",
    "firewallcmd-ipset[actiontype=<allports>]", "firewallcmd-rich-rules", "route", "hostsdeny",
    "shorewall", "ufw", "dummy", "sendmail-whois", "iptables-ipset-proto6-allports",
    "iptables-ipset", "iptables-new", "iptables-multiport-log", "pf", "bsd-ipfw", "apf"]
ports = ["ssh", "22", "2222", "ssh,2222", "http,https", "1:65535", "0:65535", "1000:2000",
    "20:30", "smtp", "ssh, http"]
protocols = ["tcp", "udp", "tcp,udp"]
out = []
for i in range(n):
    j = "j%d" % i
    lines = ["[%s]" % j, "enabled = %s" % rnd.choice(["true", "true", "true", "false"]),
             "filter = sshd", "logpath = /etc/hostname"]
    ba = rnd.choice(banactions)
    form = rnd.randrange(5)
    if rnd.random() < 0.8:
        lines.append("port = %s" % rnd.choice(ports))
    if rnd.random() < 0.25:
        lines.append("protocol = %s" % rnd.choice(protocols))
    if form == 0:
        lines.append("banaction = %s" % ba)
    elif form == 1:
        lines.append("banaction = %s" % ba)
        lines.append("action = %(action_mw)s")
    elif form == 2:
        name = ba.split("[")[0]
        lines.append('action = %s[port="%s", protocol="tcp"]' % (name, rnd.choice(ports)))
    elif form == 3:
        lines.append("action = %s" % ba)
    else:
        lines.append("banaction = %s" % ba)
        lines.append("action = %%(action_)s\n         %s" % rnd.choice(["dummy", "route", "sendmail-whois", "iptables-allports"]))
    out.append("\n".join(lines))
print("\n\n".join(out))
PY

cat >"$T/oracle.py" <<'PY'
# reads fail2ban-client -d on stdin; prints the enabled jails whose actions block tcp port 22
import ast, re, sys
PORT = 22
services = {}
for line in open("/etc/services"):
    w = line.split("#")[0].split()
    if len(w) >= 2 and w[1].endswith("/tcp"):
        for name in [w[0]] + w[2:]:
            services.setdefault(name, int(w[1].split("/")[0]))
def covers(spec):
    for t in re.split(r"[,\s]+", spec.strip()):
        if not t: continue
        m = re.fullmatch(r"(\d+)[:-](\d+)", t)
        if m:
            if int(m.group(1)) <= PORT <= int(m.group(2)): return True
        elif t.isdigit():
            if int(t) == PORT: return True
        elif services.get(t) == PORT:
            return True
    return False
acts = {}
for line in sys.stdin:
    try: v = ast.literal_eval(line.strip())
    except Exception: continue
    if v[0] == "multi-set" and v[2] == "action":
        acts.setdefault(v[1], []).append((v[3], dict((k, x) for k, x in v[4])))
    elif v[0] == "set" and len(v) >= 4 and v[2] == "addaction":
        acts.setdefault(v[1], [])
    elif v[0] == "set" and len(v) == 6 and v[2] == "action":
        acts.setdefault(v[1], []).append((v[3], {v[4]: v[5]}))
blocking = []
for jail, al in acts.items():
    merged = {}
    for name, o in al:
        merged.setdefault(name, {}).update(o)
    why = []
    for name, o in merged.items():
        text = " ".join(str(o.get(k, "")) for k in ("actionstart", "actionban", "actioncheck"))
        proto = o.get("protocol", "tcp")
        if not re.search(r"iptables|nft |ip route|firewall-cmd|<file>|hosts\.deny|shorewall|ufw |ipset|pfctl|ipfw|apf ", text):
            continue
        if not re.search(r"\btcp\b|\ball\b", proto) and proto.strip():
            continue
        m = re.search(r"--dports? (\S+)|dport \\\{ (.+?) \\\}|port port='\$p'|\bport=\"([^\"]*)\"|\bto me ([^\s;]+)|\bto \S+ ([^\s;]+)$", text)
        if m and m.group(0).startswith("port port"):
            spec = o.get("port", "")
        elif m:
            spec = next(g for g in m.groups() if g is not None)
            e = re.search(r"echo '([^']*)'", spec)
            if e:
                spec = e.group(1)
        else:
            spec = None
        if spec is None or covers(spec.replace("<port>", o.get("port", ""))):
            why.append(name)
    if why:
        blocking.append(jail)
print(" ".join(sorted(blocking, key=lambda j: int(j[1:]))))
PY

t_case "$SEEDS jail files of 40 jails: every jail fail2ban's commands block on port 22 is counted"
over=0 jails=0 start=$(date +%s)
for ((seed = 1; seed <= SEEDS; seed++)); do
	python3 "$T/gen.py" "$seed" 40 >"$R/etc/fail2ban/jail.d/gen.local"
	want=$(timeout 60 fail2ban-client -c "$R/etc/fail2ban" -d 2>/dev/null | python3 "$T/oracle.py") ||
		{ t_fail "seed $seed: fail2ban-client -d failed"; continue; }
	"$SSHRESCUE" check --root "$R" --policy "$T/policy.ini" --json >"$T/out" 2>/dev/null
	got=$(jq -r '.policies[] | select(.name == "fail2ban") | .note' "$T/out" |
		grep -oE '\bj[0-9]+ \(' | tr -d ' (' | tr '\n' ' ')
	for j in $want; do
		[[ " $got " == *" $j "* ]] ||
			t_fail "seed $seed: jail $j blocks port 22 in fail2ban's commands, sshrescue does not count it"
	done
	for j in $got; do [[ " $want " == *" $j "* ]] || over=$((over + 1)); done
	jails=$((jails + 40))
done
echo "fail2ban-jails.sh: $jails jails compared in $(($(date +%s) - start)) s; counted by sshrescue alone (conservative): $over"
t_done
