# tests/integration/locked-root.bash: shared by crash.sh, faults.sh and hostile.sh (sourced
# after lib.sh; tests/run runs only *.sh). mk_locked_root DIR builds an instance root locked
# out every way the policies repair; judge.py (written to $T) compares roots file by file.

# A root locked out every way the policies repair: hosts.deny with DenyHosts entries and a
# hand-written refusal of sshd, DenyHosts' counting files, fail2ban's database (schema 4) and
# jail.local, sshd_config whose MaxStartups drops connections, saved iptables rules.
mk_locked_root() {
	local r=$1
	t_mkroot "$r"
	mkdir -p "$r/var/lib/denyhosts"
	printf 'WORK_DIR = /var/lib/denyhosts\nHOSTS_DENY = /etc/hosts.deny\nBLOCK_SERVICE = sshd\nPURGE_DENY = 4w\n' >"$r/etc/denyhosts.conf"
	{
		echo "# /etc/hosts.deny: list of hosts that are _not_ allowed to access the system."
		echo "vsftpd: 203.0.113.5"
		echo "sshd: 203.0.113.0/255.255.255.0 EXCEPT 203.0.113.200"
		echo "# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5"
		echo "sshd: 203.0.113.5"
		echo "# DenyHosts: Tue Nov 24 10:00:01 2026 | sshd: 198.51.100.7"
		echo "sshd: 198.51.100.7"
		echo "sshd: 203.0.113.77"
	} >"$r/etc/hosts.deny"
	chmod 0640 "$r/etc/hosts.deny"
	setfattr -n user.sshrescue.test -v keepme "$r/etc/hosts.deny"
	printf '203.0.113.5:40:Tue Nov 24 10:00:00 2026\n198.51.100.7:12:Tue Nov 24 10:00:01 2026\n203.0.113.77:6:Tue Nov 24 10:00:02 2026\n' >"$r/var/lib/denyhosts/hosts"
	printf '203.0.113.5:3:Tue Nov 24 10:00:00 2026\n' >"$r/var/lib/denyhosts/hosts-root"
	printf '203.0.113.5:1:Tue Nov 24 10:00:00 2026\n' >"$r/var/lib/denyhosts/hosts-restricted"
	printf 'root - 203.0.113.5:3:Tue Nov 24 10:00:00 2026\nadmin - 198.51.100.7:2:Tue Nov 24 10:00:01 2026\n' >"$r/var/lib/denyhosts/users-hosts"
	mkdir -p "$r/etc/fail2ban/jail.d" "$r/etc/fail2ban/fail2ban.d" "$r/var/lib/fail2ban"
	cp -a /etc/fail2ban/fail2ban.conf /etc/fail2ban/jail.conf /etc/fail2ban/paths-*.conf "$r/etc/fail2ban/"
	printf '[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n\n[sshd]\nenabled = true\nbantime = 1d\n' >"$r/etc/fail2ban/jail.local"
	{ cat "$TOP/tests/fail2ban-v4.sql"; cat <<'SQL'; } | sqlite3 "$r/var/lib/fail2ban/fail2ban.sqlite3"
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)
INSERT INTO bips SELECT CASE WHEN i < 256 THEN '203.0.113.' || i ELSE '198.51.100.' || (i - 256) END,
	'sshd', 1764000000 + i, 86400, 1, '{"failures": 5}' FROM n;
INSERT INTO bans SELECT jail, ip, timeofban, bantime, bancount, data FROM bips;
INSERT INTO bips VALUES ('203.0.113.5', 'recidive', 1764000000, -1, 3, '{}');
INSERT INTO bans VALUES ('recidive', '203.0.113.5', 1764000000, -1, 3, '{}');
SQL
	mkdir -p "$r/etc/ssh/sshd_config.d"
	printf 'Include /etc/ssh/sshd_config.d/*.conf\nPort 22\nMaxStartups 2:30:5\nPasswordAuthentication no\n' >"$r/etc/ssh/sshd_config"
	printf '# the owner'"'"'s drop-in\nClientAliveInterval 120\nMaxStartups 3\n' >"$r/etc/ssh/sshd_config.d/10-owner.conf"
	# one host key for every root of a test, so that roots compare equal
	[ -e "$T/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C '' -f "$T/ssh_host_ed25519_key"
	cp -p "$T/ssh_host_ed25519_key" "$T/ssh_host_ed25519_key.pub" "$r/etc/ssh/"
	mkdir -p "$r/etc/iptables"
	printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n' >"$r/etc/iptables/rules.v4"
}

write_judge() {
# The judge: compares roots. Each file's state is its type, mode, owner, xattrs and content
# with run ids blanked (sshrescue's comments name the run); a SQLite database's content is what
# SQLite reads from a copy of it and its journal (a hot journal is rolled back, as fail2ban's
# next start would), i.e. its dump.
cat >"$T/judge.py" <<'PY'
import os, re, shutil, sqlite3, stat, sys, tempfile

SKIP = ("var/log/sshrescue", "var/lib/sshrescue", "lost+found") + tuple(os.environ.get("JUDGE_SKIP", "").split())
RUNID = re.compile(rb"\d{8}T\d{6}\.\d{6}Z-\d+")

def is_temp(rel):
    n = os.path.basename(rel)
    return ".sshrescue-" in n or n.endswith("-journal") or n.endswith("-wal") or n.endswith("-shm")

def sqlite_dump(path):
    d = tempfile.mkdtemp(prefix="judge-")
    try:
        for sfx in ("", "-journal", "-wal"):
            if os.path.exists(path + sfx):
                shutil.copy(path + sfx, os.path.join(d, "db" + sfx))
        c = sqlite3.connect(os.path.join(d, "db"))
        try:
            if c.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return "corrupt database"
            return "\n".join(c.iterdump())
        finally:
            c.close()
    except sqlite3.Error as e:
        return "unreadable database: %s" % e
    finally:
        shutil.rmtree(d)

def state(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    meta = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    if stat.S_ISDIR(st.st_mode):
        return meta
    if stat.S_ISLNK(st.st_mode):
        return meta + (os.readlink(path),)
    x = tuple(sorted((a, os.getxattr(path, a, follow_symlinks=False)) for a in os.listxattr(path, follow_symlinks=False)))
    if path.endswith(".sqlite3"):
        return meta + (x, sqlite_dump(path))
    with open(path, "rb") as f:
        return meta + (x, RUNID.sub(b"RUNID", f.read()))

def files(root):
    out = set()
    for d, dirs, fs in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel != "." and rel.startswith(SKIP):
            dirs[:] = []
            continue
        for n in fs + dirs:
            r = os.path.normpath(os.path.join(rel, n))
            if not r.startswith(SKIP):
                out.add(r)
    return out

def judge(stage, base, ref, work):
    """stage: killed (original or repaired), repaired (as ref), undone (as base)."""
    bad = []
    paths = files(base) | files(ref) | files(work)
    for rel in sorted(paths):
        w = state(os.path.join(work, rel))
        b = state(os.path.join(base, rel))
        r = state(os.path.join(ref, rel))
        if is_temp(rel) and b is None and r is None:
            if stage != "killed" and w is not None:
                bad.append("%s: left behind" % rel)
            continue
        want = {"killed": (b, r), "repaired": (r,), "undone": (b,)}[stage]
        if w not in want:
            bad.append("%s: neither %s" % (rel, " nor ".join({"killed": ("original", "repaired"), "repaired": ("repaired",), "undone": ("original",)}[stage])))
    # every backup on disk is whole: the original's bytes and metadata
    bdir = os.path.join(work, "var/lib/sshrescue/backups")
    for run in sorted(os.listdir(bdir)) if os.path.isdir(bdir) else []:
        fdir = os.path.join(bdir, run, "files")
        listed = set()
        mpath = os.path.join(bdir, run, "manifest")
        if os.path.exists(mpath):
            for line in open(mpath, encoding="utf-8", errors="replace"):
                f = line.rstrip("\n").split("\t")
                if len(f) >= 2 and f[0] == "file":
                    listed.add(f[1].lstrip("/"))
        for d, dirs, fs in os.walk(fdir):
            for n in fs:
                rel = os.path.relpath(os.path.join(d, n), fdir)
                if is_temp(rel):
                    continue
                b = state(os.path.join(base, rel))
                got = state(os.path.join(d, n))
                # a backup keeps content, mode, owner and xattrs
                if got is None or got != b:
                    bad.append("backup %s/%s: not the original" % (run, rel))
        for rel in listed:
            if not os.path.exists(os.path.join(fdir, rel)):
                bad.append("backup %s/%s: listed in the manifest, missing" % (run, rel))
    return bad

stage, base, ref = sys.argv[1:4]
damaged = 0
for work in sys.argv[4:]:
    for msg in judge(stage, base, ref, work):
        print("%s: %s: %s" % (os.path.basename(work), stage, msg))
        damaged += 1
sys.exit(1 if damaged else 0)
PY
}
write_judge
