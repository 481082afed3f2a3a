#!/usr/bin/env bash
# durability.sh: durability batched per filesystem (issue 19). `sshrescue repair` of a root
# locked out every way the policies repair (locked-root.bash), traced by strace: every rename
# of a temporary over an instance file comes after a sync (syncfs, fsync or fdatasync) that
# follows the last write to that temporary, and the last write or link of every backup and of
# the run's manifest, so a rename never reaches the disk before the content it names nor before
# what undo needs; and the run syncs a handful of times, where one fsync per file and
# directory made 54. (crash.sh kills the run at each of these calls; this script checks their
# order.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/locked-root.bash"

for p in strace python3 setfattr; do
	command -v "$p" >/dev/null || { echo "FAIL durability.sh: $p is missing (tests/deps installs strace, python3, attr)"; exit 1; }
done
SR=${SSHRESCUE_BIN:-$SSHRESCUE}
NOLEAK=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
printf '[report]\nconsole = no\n' >"$T/policy.ini"
R=$T/root
mk_locked_root "$R"

t_case "every rename over an instance file follows a sync of its content, its backup and the manifest"
"${NOLEAK[@]}" strace -f -qq -y -o "$T/trace" \
	-e trace=write,pwrite64,writev,fsync,fdatasync,syncfs,rename,renameat,renameat2,link,linkat,copy_file_range,sendfile \
	"$SR" -c "$T/policy.ini" repair --root "$R" --protect 203.0.113.0/24 >"$T/out" 2>&1
rc=$?
[ $rc = 1 ] || { t_fail "repair exited $rc, want 1"; sed 's/^/       | /' "$T/out" | head -5; }
python3 - "$T/trace" "$R" >"$T/judged" <<'PY'
import re, sys
trace, root = sys.argv[1], sys.argv[2]
backups = root + "/var/lib/sshrescue/"
fdpath = re.compile(r"^\d+\s+(\w+)\((.*)")
def paths(args):
    return re.findall(r"<([^<>]*)>", args)
last_write = {}   # host path -> index of its last write
last_undo = -1    # last write or link of a backup or of the manifest
syncs = []
renames = 0
bad = []
for i, line in enumerate(open(trace)):
    m = fdpath.match(line)
    if not m or "resumed>" in line or "= -1 " in line:
        continue
    name, args = m.groups()
    ps = paths(args)
    if name in ("fsync", "fdatasync", "syncfs"):
        syncs.append(i)
    elif name in ("write", "pwrite64", "writev") and ps:
        last_write[ps[0]] = i
        if ps[0].startswith(backups):
            last_undo = i
    elif name in ("copy_file_range", "sendfile") and len(ps) >= 2:
        dst = ps[1] if name == "copy_file_range" else ps[0]
        last_write[dst] = i
        if dst.startswith(backups):
            last_undo = i
    elif name in ("link", "linkat"):
        if backups in args:
            last_undo = i
    elif name in ("rename", "renameat", "renameat2"):
        q = re.findall(r'"([^"]*)"', args)
        if len(q) < 2 or not ps:
            continue
        d = ps[0]
        if d.startswith(backups) or not re.match(r"^\..*\.sshrescue-\d+$", q[0]):
            continue  # a backup's own name: its sync comes before the file it backs up is renamed
        renames += 1
        need = max(last_write.get(d + "/" + q[0], -1), last_undo)
        if not any(need < s < i for s in syncs):
            bad.append("%s/%s renamed (trace line %d) with no sync after its last write or the backup's (line %d)" % (d[len(root):], q[1], i + 1, need + 1))
print("renames %d syncs %d" % (renames, len(syncs)))
for b in bad:
    print("bad " + b)
PY
read -r _ renames _ syncs <"$T/judged"
[ "${renames:-0}" -ge 8 ] || t_fail "only ${renames:-0} renames over instance files traced"
while read -r line; do t_fail "$line"; done < <(sed -n 's/^bad //p' "$T/judged")

t_case "the run syncs a few times, not once per file and directory"
[ "${renames:-0}" -ge 8 ] || t_fail "only ${renames:-0} renames: no repair to count syncs of"
echo "       $renames renames over instance files, $syncs syncs (fsync, fdatasync, syncfs)"
[ "${syncs:-99}" -le 8 ] || t_fail "$syncs syncs for $renames renames: want at most 8 (one filesystem, a few batches)"
t_done
