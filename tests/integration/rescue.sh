#!/usr/bin/env bash
# rescue.sh: rescue mode on real disk images: a GPT image with root and a separate /var, a
# bare ext4, an xfs twin of a mounted xfs (nouuid), btrfs with @ and @home subvolumes, two
# candidate roots, the running system's root and its same-UUID twin, a damaged filesystem,
# LVM2 members, and SIGTERM/SIGKILL mid-run. After every run no mount, loop device or
# directory of ours is left. Images are built with sfdisk, mkfs.ext4 -d, mkfs.xfs, mkfs.btrfs;
# the few that need content written through a mount do it in a mount namespace of their own.
source "$(dirname "$0")/../lib.sh"

PROTECT=(--protect 203.0.113.0/24)
ROOT_TYPE=0FC63DAF-8483-4772-8E79-3D69D8477DE4
P1=11111111-2222-4333-8444-000000000001
P2=11111111-2222-4333-8444-000000000002
export LVM_SUPPRESS_FD_WARNINGS=1

# --- fixtures ------------------------------------------------------------------------------

# An instance root tree: os-release (a symlink into usr/lib, as on Debian), fstab from stdin.
mk_tree() { # dir pretty-name
	local r=$1
	t_mkroot "$r"
	rm -f "$r/etc/os-release"
	printf 'PRETTY_NAME="%s"\nID=debian\n' "$2" >"$r/usr/lib/os-release"
	ln -s ../usr/lib/os-release "$r/etc/os-release"
	cat >"$r/etc/fstab"
}

# Locked out: tcpd denies sshd to everyone, DenyHosts denied 203.0.113.5 and counts it in its
# WORK_DIR on the separate /var.
lock_out() { # root-tree var-tree
	local r=$1 v=$2
	printf 'WORK_DIR = /var/lib/denyhosts\nHOSTS_DENY = /etc/hosts.deny\nBLOCK_SERVICE = sshd\n' >"$r/etc/denyhosts.conf"
	{
		echo "ALL: 198.51.100.7"
		echo "# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5"
		echo "sshd: 203.0.113.5"
		echo "sshd: ALL"
	} >"$r/etc/hosts.deny"
	mkdir -p "$v/lib/denyhosts"
	printf '203.0.113.5:40:Tue Nov 24 10:00:00 2026\n198.51.100.7:12:Tue Nov 24 10:00:01 2026\n' >"$v/lib/denyhosts/hosts"
}

# A 100 MiB GPT image: partition 1 the root (60 MiB), partition 2 its /var (38 MiB), both
# ext4 filled from directories, no mount needed.
mk_gpt() { # image root-tree var-tree
	local img=$1
	rm -f "$img"
	truncate -s 100M "$img"
	sfdisk -q "$img" <<-EOF || return 1
		label: gpt
		start=2048, size=122880, type=$ROOT_TYPE, name=root, uuid=$P1
		start=124928, size=77824, type=$ROOT_TYPE, name=var, uuid=$P2
	EOF
	mkfs.ext4 -q -F -L inst-root -E offset=$((2048 * 512)) -d "$2" "$img" 61440k >/dev/null &&
		mkfs.ext4 -q -F -L inst-var -E offset=$((124928 * 512)) -d "$3" "$img" 38912k >/dev/null
}

# A file of an ext4 partition of an image, read without mounting.
img_cat() { # image start-sector path
	debugfs -R "cat $3" "$1?offset=$(($2 * 512))" 2>/dev/null
}

# Fill a filesystem image through a mount in a private mount namespace (gone with it).
fill_fs() { # image script (run with $M the mount point)
	mkdir -p "$T/m"
	unshare -m --propagation private bash -ec "mount -o loop '$1' '$T/m'; M='$T/m'; $2; umount '$T/m'"
}

# --- what every run must leave behind: nothing -----------------------------------------------

# No loop device on any of our images, no mount under /run/sshrescue, no directory of a
# sshrescue that is gone.
t_nothing_left() { # image...
	local img p d
	for img in "$@"; do
		for _ in $(seq 50); do [ -z "$(losetup -j "$img")" ] && break; sleep 0.1; done
		[ -z "$(losetup -j "$img")" ] || { t_fail "loop devices left on $img: $(losetup -j "$img")"; return 1; }
	done
	! grep -q ' /run/sshrescue/' /proc/self/mountinfo || { t_fail "a mount left under /run/sshrescue"; return 1; }
	for d in /run/sshrescue/*; do
		[ -e "$d" ] || continue
		p=${d##*/}
		kill -0 "$p" 2>/dev/null || { t_fail "$d left behind by a finished run"; return 1; }
	done
}

# The JSON report on stdout ($T/out) of the last run.
jt() { jq -r "$1" "$T/out"; }

# --- GPT with a separate /var --------------------------------------------------------------

mkdir -p "$T/g/root" "$T/g/var"
mk_tree "$T/g/root" "Debian GNU/Linux 12 (bookworm)" <<EOF
PARTUUID=$P1 / ext4 errors=remount-ro 0 1
PARTUUID=$P2 /var ext4 defaults 0 2
UUID=0b7e7a0c-0000-4000-8000-00000000feed none swap sw 0 0
/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0
server:/export /var/nfs nfs defaults 0 0
EOF
mkdir -p "$T/g/var/log" "$T/g/var/lib"
lock_out "$T/g/root" "$T/g/var"
GPT=$T/gpt.img
mk_gpt "$GPT" "$T/g/root" "$T/g/var" || t_fail "cannot build the GPT image"
cp "$GPT" "$T/gpt.orig"

t_case "discover --image is not needed: check --image finds the root and mounts its /var too"
t_expect_exit 4 "$SSHRESCUE" check --image "$GPT" "${PROTECT[@]}" --json &&
	[ "$(jt '.target.kind')" = image ] &&
	[ "$(jt '.target.device')" = "$GPT partition 1" ] &&
	[ "$(jt '[.target.mounts[].instance_path] | join(" ")')" = "/ /var" ] ||
	t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$GPT"

t_case "check mounts read-only without journal replay, nosuid,nodev, and writes nothing"
[ "$(jt '.target.mounts | length')" = 2 ] || t_fail "check mounted $(jt '.target.mounts | length') filesystems, not 2"
for o in ro noload nosuid nodev; do
	jq -e --arg o "$o" '[.target.mounts[].options | split(",") | index($o)] | all' "$T/out" >/dev/null ||
		t_fail "option $o missing: $(jq -c '[.target.mounts[].options]' "$T/out")"
done
cmp -s "$GPT" "$T/gpt.orig" || t_fail "check changed the image"

t_case "repair --image exits 1: tcpd grants sshd to the protected address again"
t_expect_exit 1 "$SSHRESCUE" repair --image "$GPT" "${PROTECT[@]}" --json
t_nothing_left "$GPT"
mkdir -p "$T/judge/etc"
img_cat "$GPT" 2048 /etc/hosts.deny >"$T/judge/etc/hosts.deny"
img_cat "$GPT" 2048 /etc/hosts.allow >"$T/judge/etc/hosts.allow"
[ "$(t_tcpd "$T/judge" sshd 203.0.113.5)" = granted ] ||
	t_fail "sshd still denied to 203.0.113.5; hosts.deny: $(tr '\n' '|' <"$T/judge/etc/hosts.deny")"
[ "$(t_tcpd "$T/judge" sshd 198.51.100.7)" = denied ] || t_fail "198.51.100.7 is no longer denied"

t_case "the DenyHosts files written are those of the separate /var, not the root's hidden /var"
img_cat "$GPT" 124928 /lib/denyhosts/hosts >"$T/judge/dh-hosts"
img_cat "$GPT" 124928 /lib/denyhosts/allowed-hosts >"$T/judge/dh-allowed"
t_no_grep '^203\.0\.113\.5:' "$T/judge/dh-hosts" && t_grep '^198.51.100.7:12:' "$T/judge/dh-hosts" &&
	t_grep '203\.0\.113\.' "$T/judge/dh-allowed"
debugfs -R "ls -p /var/lib" "$GPT?offset=$((2048 * 512))" 2>/dev/null | grep -q denyhosts &&
	t_fail "DenyHosts files were written into the root filesystem's own /var"

t_case "both filesystems are clean after the repair"
[ "$(t_tcpd "$T/judge" sshd 203.0.113.5)" = granted ] || t_fail "the repair did not happen: no repair to judge"
dd if="$GPT" of="$T/p1" bs=512 skip=2048 count=122880 status=none
dd if="$GPT" of="$T/p2" bs=512 skip=124928 count=77824 status=none
e2fsck -fn "$T/p1" >"$T/fsck" 2>&1 || { t_fail "root not clean"; cat "$T/fsck"; }
e2fsck -fn "$T/p2" >"$T/fsck" 2>&1 || { t_fail "/var not clean"; cat "$T/fsck"; }
rm -f "$T/p1" "$T/p2"

t_case "a second repair finds nothing to do and nothing left over"
[ "$(t_tcpd "$T/judge" sshd 203.0.113.5)" = granted ] || t_fail "the first repair did not happen"
t_expect_exit 0 "$SSHRESCUE" repair --image "$GPT" "${PROTECT[@]}" -q
t_nothing_left "$GPT"

# --- a bare filesystem image --------------------------------------------------------------

t_case "a bare ext4 image is one loop device and the root"
mk_tree "$T/bare" "Bare Linux 1" <<<"LABEL=bare / ext4 defaults 0 1"
mkfs.ext4 -q -F -L bare -d "$T/bare" "$T/bare.img" 32M >/dev/null
t_expect_exit 0 "$SSHRESCUE" check --image "$T/bare.img" --json &&
	[ "$(jt '.target.device')" = "$T/bare.img" ] && [ "$(jt '.target.fstype')" = ext4 ] &&
	[ "$(jt '.target.mounts | length')" = 1 ] || t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$T/bare.img"

# --- xfs twin of a mounted xfs ---------------------------------------------------------------

t_case "an xfs whose UUID duplicates a mounted xfs is mounted with nouuid"
mk_tree "$T/x" "XFS Linux" <<<"LABEL=xroot / xfs defaults 0 0"
truncate -s 300M "$T/xa.img"
mkfs.xfs -q -L xroot "$T/xa.img"
fill_fs "$T/xa.img" 'cp -a '"$T"'/x/. "$M"/'
cp --sparse=always "$T/xa.img" "$T/xb.img"
mkdir -p "$T/xa"
XL=$(losetup -f --show "$T/xa.img")
t_defer "losetup -d $XL"
mount -o ro "$XL" "$T/xa"
t_defer "umount $T/xa"
for cmd in check repair; do
	t_expect_exit 0 "$SSHRESCUE" $cmd --image "$T/xb.img" --json || continue
	jt '.target.mounts[0].options' | grep -q nouuid || t_fail "$cmd: no nouuid: $(jt '.target.mounts[0].options')"
	[ $cmd = check ] && ! jt '.target.mounts[0].options' | grep -q 'ro,norecovery' &&
		t_fail "check: xfs not mounted ro,norecovery"
done
t_nothing_left "$T/xb.img"
umount "$T/xa"
t_case "the same xfs, with its twin not mounted, needs no nouuid"
t_expect_exit 0 "$SSHRESCUE" check --image "$T/xb.img" --json &&
	[ "$(jt '.target.fstype')" = xfs ] &&
	! jt '.target.mounts[0].options' | grep -q nouuid || t_fail "nouuid without a twin mounted: $(jq -c .target "$T/out")"
t_case "an xfs whose twin is mounted only in another mount namespace: mounted all the same"
# the twin's mount lives on in a namespace made while it was mounted: XFS still refuses its
# UUID, and our mountinfo does not show it
mount -o ro "$XL" "$T/xa"
unshare -m --propagation private sleep 120 &
ns_pid=$!
t_defer "kill $ns_pid 2>/dev/null"
sleep 0.3
umount "$T/xa"
if grep -q " $T/xa " /proc/self/mountinfo; then
	t_fail "the twin is still mounted here"
else
	t_expect_exit 0 "$SSHRESCUE" check --image "$T/xb.img" --json &&
		[ "$(jt '.target.mounts[0].fstype // .target.fstype')" = xfs ] ||
		t_fail "check failed: $(jq -c .errors "$T/out" 2>/dev/null)"
fi
kill $ns_pid 2>/dev/null
wait $ns_pid 2>/dev/null
t_nothing_left "$T/xb.img"
losetup -d "$XL"
t_nothing_left "$T/xb.img"

# --- btrfs with @ and @home ------------------------------------------------------------------

t_case "btrfs: the root is the subvolume @ that the instance's fstab names, with /var/log from @log"
truncate -s 300M "$T/b.img"
mkfs.btrfs -q -L broot "$T/b.img" >/dev/null
BU=$(blkid -o value -s UUID "$T/b.img")
mk_tree "$T/bt" "Ubuntu 24.04 LTS" <<EOF
UUID=$BU / btrfs defaults,subvol=@ 0 1
UUID=$BU /home btrfs defaults,subvol=@home 0 2
UUID=$BU /var/log btrfs defaults,subvol=@log 0 2
EOF
mkdir -p "$T/bt/var/log"
fill_fs "$T/b.img" 'btrfs -q subvolume create "$M/@"; btrfs -q subvolume create "$M/@home"
	btrfs -q subvolume create "$M/@log"; cp -a '"$T"'/bt/. "$M/@/"; echo in-log > "$M/@log/marker"
	mkdir "$M/@home/user"'
t_expect_exit 0 "$SSHRESCUE" check --image "$T/b.img" --json &&
	jt '.target.mounts[0].options' | grep -q 'subvol=@$\|subvol=@,' &&
	[ "$(jt '[.target.mounts[].instance_path] | join(" ")')" = "/ /var/log" ] &&
	jt '.target.mounts[1].options' | grep -q 'subvol=@log' &&
	[ "$(jt .instance.os)" = "Ubuntu 24.04 LTS" ] || t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$T/b.img"

t_case "btrfs whose root is the default subvolume and whose fstab names none"
truncate -s 300M "$T/b2.img"
mk_tree "$T/bt2" "Fedora Linux 40" <<<"LABEL=b2 / btrfs defaults 0 0"
mkfs.btrfs -q -L b2 --rootdir "$T/bt2" "$T/b2.img" >/dev/null
t_expect_exit 0 "$SSHRESCUE" check --image "$T/b2.img" --json &&
	[ "$(jt .instance.os)" = "Fedora Linux 40" ] &&
	! jt '.target.mounts[0].options' | grep -q subvol || t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$T/b2.img"

# --- two candidate roots -------------------------------------------------------------------

mk_tree "$T/r1" "First Linux" <<<"PARTUUID=$P1 / ext4 defaults 0 1"
mk_tree "$T/r2" "Second Linux" <<<"PARTUUID=$P2 / ext4 defaults 0 1"
TWO=$T/two.img
mk_gpt "$TWO" "$T/r1" "$T/r2"

t_case "two roots in one image: an error that lists both"
t_expect_exit 8 "$SSHRESCUE" check --image "$TWO" &&
	t_grep "2 Linux roots found" "$T/err" && t_grep "$TWO partition 1: ext4.*First Linux" "$T/err" &&
	t_grep "$TWO partition 2: ext4.*Second Linux" "$T/err"
t_nothing_left "$TWO"

t_case "--device PARTUUID= picks one of them"
t_expect_exit 0 "$SSHRESCUE" check --image "$TWO" --device "PARTUUID=$P2" --json &&
	[ "$(jt .target.device)" = "$TWO partition 2" ] && [ "$(jt .instance.os)" = "Second Linux" ] ||
	t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$TWO"

t_case "[target] root = LABEL= in the policy file picks one too"
printf '[target]\nroot = LABEL=inst-root\n' >"$T/pick.ini"
t_expect_exit 0 "$SSHRESCUE" check --image "$TWO" -c "$T/pick.ini" --json &&
	[ "$(jt .instance.os)" = "First Linux" ] || t_fail "target: $(jq -c .target "$T/out")"

t_case "two roots attached as disks: discover lists both, check refuses, --device picks one"
mkfs.ext4 -q -F -d "$T/r1" "$T/d1.img" 16M >/dev/null
mkfs.ext4 -q -F -d "$T/r2" "$T/d2.img" 16M >/dev/null
D1=$(losetup -f --show "$T/d1.img")
t_defer "losetup -d $D1"
D2=$(losetup -f --show "$T/d2.img")
t_defer "losetup -d $D2"
t_expect_exit 0 "$SSHRESCUE" discover &&
	t_grep "^$D1	ext4	.*	First Linux	" "$T/out" && t_grep "^$D2	ext4	.*	Second Linux	" "$T/out"
t_expect_exit 0 "$SSHRESCUE" discover --json &&
	jq -e --arg d "$D2" '.candidates[] | select(.device == $d and .pretty_name == "Second Linux")' "$T/out" >/dev/null ||
	t_fail "discover --json: $(cat "$T/out")"
t_expect_exit 8 "$SSHRESCUE" check && t_grep "$D1: ext4.*First Linux" "$T/err" && t_grep "$D2: ext4.*Second Linux" "$T/err"
t_expect_exit 0 "$SSHRESCUE" check --device "$D2" --json &&
	[ "$(jt .target.device)" = "$D2" ] && [ "$(jt .instance.os)" = "Second Linux" ] ||
	t_fail "target: $(jq -c .target "$T/out")"
t_nothing_left "$D1" "$D2"
[ "$(losetup -j "$T/d1.img" | wc -l)$(losetup -j "$T/d2.img" | wc -l)" = 11 ] ||
	t_fail "loop devices other than the test's own on the disks' images"

t_case "the running system's root is never listed"
rootdev=$(stat -c '%d' /)
t_expect_exit 0 "$SSHRESCUE" discover --json
# the listing that leaves the running root out still lists the attached instance disks
[ -s "$T/out" ] && jq -e --arg d "$D1" '.candidates[] | select(.device == $d)' "$T/out" >/dev/null ||
	t_fail "discover does not list $D1: $(head -c 300 "$T/out")"
while read -r dev; do
	[ -b "$dev" ] && [ "$(stat -L -c '%t:%T' "$dev")" = "$(printf '%x:%x' $((rootdev >> 8)) $((rootdev & 255)))" ] &&
		t_fail "the running root $dev is listed"
done < <(jq -r '.candidates[].device' "$T/out")
losetup -d "$D1" "$D2"

# --- the running root and its twin, in a rescue system of our own -----------------------------

# A rescue system whose / is a loop-mounted ext4 with UUID $TU (chroot in a private mount
# namespace, with the host's /usr), and the instance disk: a twin with the same UUID.
t_case "a twin with the running root's UUID is listed and picked by UUID=, the running root never"
TU=5eed7a11-0000-4000-8000-0000000000aa
mk_tree "$T/rescue" "Rescue System" <<<"UUID=$TU / ext4 defaults 0 1"
mkdir -p "$T/rescue"/{usr,proc,sys,dev,run,tmp}
for l in bin sbin lib lib64; do [ -L /$l ] && ln -s "$(readlink /$l)" "$T/rescue/$l"; done
mkfs.ext4 -q -F -U "$TU" -d "$T/rescue" "$T/rescue.img" 32M >/dev/null
mk_tree "$T/twin" "Broken Twin" <<<"UUID=$TU / ext4 defaults 0 1"
mkfs.ext4 -q -F -U "$TU" -d "$T/twin" "$T/twin.img" 32M >/dev/null
TW=$(losetup -f --show "$T/twin.img")
t_defer "losetup -d $TW"
# the binary itself (under tests/run VALGRIND=1, $SSHRESCUE is a wrapper the chroot cannot run)
cp "${SSHRESCUE_BIN:-$SSHRESCUE}" "$T/sshrescue.bin"
cat >"$T/in-rescue.sh" <<EOF
set -e
mount -o loop "$T/rescue.img" "$T/rr"
mount --rbind /usr "$T/rr/usr"
mount --rbind /dev "$T/rr/dev"
mount --rbind /sys "$T/rr/sys"
mount -t proc proc "$T/rr/proc"
mount -t tmpfs tmpfs "$T/rr/run"
cp "$T/sshrescue.bin" "$T/rr/tmp/sshrescue"
cd /
set +e
chroot "$T/rr" /tmp/sshrescue discover >"$T/rr-discover" 2>"$T/rr-discover.err"; echo \$? >"$T/rr-discover.rc"
chroot "$T/rr" /tmp/sshrescue check --device UUID=$TU --json >"$T/rr-check" 2>"$T/rr-check.err"; echo \$? >"$T/rr-check.rc"
chroot "$T/rr" /tmp/sshrescue check --device "\$(findmnt -no SOURCE "$T/rr")" >/dev/null 2>"$T/rr-self.err"; echo \$? >"$T/rr-self.rc"
EOF
mkdir -p "$T/rr"
unshare -m --propagation private bash "$T/in-rescue.sh" >"$T/rr-setup" 2>&1 || { t_fail "rescue system setup failed"; cat "$T/rr-setup"; }
[ "$(cat "$T/rr-discover.rc" 2>/dev/null)" = 0 ] && t_grep "^$TW	ext4	$TU	.*Broken Twin" "$T/rr-discover" &&
	t_no_grep "Rescue System" "$T/rr-discover" || sed 's/^/       | /' "$T/rr-discover.err"
[ "$(cat "$T/rr-check.rc" 2>/dev/null)" = 0 ] && [ "$(jq -r .target.device "$T/rr-check")" = "$TW" ] &&
	[ "$(jq -r .instance.os "$T/rr-check")" = "Broken Twin" ] ||
	{ t_fail "check --device UUID=: rc $(cat "$T/rr-check.rc" 2>/dev/null)"; sed 's/^/       | /' "$T/rr-check.err"; }
[ "$(cat "$T/rr-self.rc" 2>/dev/null)" = 8 ] && t_grep "running system's own disk" "$T/rr-self.err" ||
	t_fail "--device naming the rescue system's own root: rc $(cat "$T/rr-self.rc" 2>/dev/null): $(cat "$T/rr-self.err")"
losetup -d "$TW"
t_nothing_left "$T/twin.img" "$T/rescue.img"

# --- damaged filesystems: exit 8, libmount's message, nothing half-done ------------------------

t_case "a damaged root: repair exits 8 with the kernel's reason and leaves nothing mounted"
cp "$T/bare.img" "$T/bad.img"
debugfs -w -R 'set_bg 0 checksum 0x1234' "$T/bad.img" >/dev/null 2>&1
t_expect_exit 8 "$SSHRESCUE" repair --image "$T/bad.img" &&
	t_grep "bad.img: cannot mount.*\(Structure needs cleaning\|corrupted filesystem\)" "$T/err"
t_nothing_left "$T/bad.img"

t_case "a damaged separate /var: repair exits 8 and the root it had mounted is released too"
cp "$T/gpt.orig" "$T/badvar.img"
dd if="$T/badvar.img" of="$T/p2" bs=512 skip=124928 count=77824 status=none
debugfs -w -R 'set_bg 0 checksum 0x1234' "$T/p2" >/dev/null 2>&1
dd if="$T/p2" of="$T/badvar.img" bs=512 seek=124928 conv=notrunc status=none
rm -f "$T/p2"
t_expect_exit 8 "$SSHRESCUE" repair --image "$T/badvar.img" "${PROTECT[@]}" &&
	t_grep "Structure needs cleaning (the instance's /var)" "$T/err"
t_nothing_left "$T/badvar.img"
img_cat "$T/badvar.img" 2048 /etc/hosts.deny | grep -q '^sshd: ALL' ||
	t_fail "the root was repaired although its /var could not be mounted"

t_case "a partition without a filesystem for /var in fstab: exit 8, named"
mk_tree "$T/nv" "No Var" <<<"LABEL=nv / ext4 defaults 0 1
UUID=0b7e7a0c-dead-4000-8000-000000000001 /var ext4 defaults 0 2"
mkfs.ext4 -q -F -L nv -d "$T/nv" "$T/nv.img" 16M >/dev/null
t_expect_exit 8 "$SSHRESCUE" check --image "$T/nv.img" &&
	t_grep "UUID=0b7e7a0c-dead-4000-8000-000000000001 for /var: no such device" "$T/err"
t_nothing_left "$T/nv.img"

# --- signals -------------------------------------------------------------------------------

# Start a repair that pauses once everything is mounted; wait for it to say so.
start_paused() { # image
	SSHRESCUE_TEST_PAUSE_AFTER_MOUNT=60 "$SSHRESCUE" repair --image "$1" "${PROTECT[@]}" -q \
		>"$T/sig.out" 2>"$T/sig.err" &
	PID=$!
	for _ in $(seq 100); do grep -q 'test pause' "$T/sig.err" && return 0; sleep 0.1; done
	t_fail "no pause: $(cat "$T/sig.err")"
	kill -KILL $PID
	return 1
}

t_case "SIGTERM while mounted: everything is released and the filesystems are clean"
cp "$T/gpt.orig" "$T/sig.img"
if start_paused "$T/sig.img"; then
	[ "$(losetup -j "$T/sig.img" | wc -l)" = 2 ] || t_fail "not 2 loop devices while paused"
	[ "$(grep -c " /run/sshrescue/$PID/" /proc/$PID/mountinfo)" = 2 ] || t_fail "not 2 mounts while paused"
	kill -TERM $PID
	wait $PID
	rc=$?
	[ $rc = 143 ] || t_fail "exit $rc after SIGTERM, want 143"
	t_nothing_left "$T/sig.img"
	dd if="$T/sig.img" of="$T/p1" bs=512 skip=2048 count=122880 status=none
	e2fsck -fn "$T/p1" >"$T/fsck" 2>&1 || { t_fail "root not clean after SIGTERM"; cat "$T/fsck"; }
	rm -f "$T/p1"
fi

t_case "SIGKILL while mounted: the kernel drops mounts and loops; the next run clears the rest"
if start_paused "$T/sig.img"; then
	{ kill -KILL $PID; wait $PID; } 2>/dev/null
	for _ in $(seq 50); do [ -z "$(losetup -j "$T/sig.img")" ] && break; sleep 0.1; done
	[ -z "$(losetup -j "$T/sig.img")" ] || t_fail "autoclear did not detach: $(losetup -j "$T/sig.img")"
	[ -d "/run/sshrescue/$PID" ] || t_fail "expected the empty directory of the killed run"
	t_expect_exit 4 "$SSHRESCUE" check --image "$T/sig.img" "${PROTECT[@]}" -q
	[ ! -e "/run/sshrescue/$PID" ] || t_fail "the killed run's directory is still there"
	t_nothing_left "$T/sig.img"
fi

# --- LVM2 members (this kernel has no device-mapper: activation itself is tested in QEMU) ------

t_case "an LVM2 member whose VG name the running system also uses: renamed for the run, then back"
truncate -s 64M "$T/pv-sys.img" "$T/pv-inst.img"
LS=$(losetup -f --show "$T/pv-sys.img")
t_defer "losetup -d $LS"
LI=$(losetup -f --show "$T/pv-inst.img")
t_defer "losetup -d $LI"
lvm pvcreate -q --devices "$LS" "$LS" >/dev/null && lvm vgcreate -q --devices "$LS" vgsame "$LS" >/dev/null
lvm pvcreate -q --devices "$LI" "$LI" >/dev/null && lvm vgcreate -q --devices "$LI" vgsame "$LI" >/dev/null
uuid_before=$(lvm vgs --devices "$LI" --noheadings -o vg_uuid | tr -d ' ')
losetup -d "$LI"
t_expect_exit 8 "$SSHRESCUE" repair --image "$T/pv-inst.img" &&
	t_grep "volume group vgsame: activated as vgsame_sshrescue[0-9]* for the run" "$T/err" &&
	t_grep "volume group vgsame: no logical volumes" "$T/err"
t_nothing_left "$T/pv-inst.img"
LI=$(losetup -f --show -r "$T/pv-inst.img")
t_defer "losetup -d $LI"
[ "$(lvm vgs --devices "$LI" --noheadings -o vg_name,vg_uuid | tr -s ' ' | sed 's/^ //')" = "vgsame $uuid_before" ] ||
	t_fail "the instance's VG is now: $(lvm vgs --devices "$LI" --noheadings -o vg_name,vg_uuid)"
lvm vgs --devices "$LI" --noheadings -o vg_name,vg_seqno >"$T/seq"
t_case "check does not rename a clashing VG: it says so"
losetup -d "$LI"
t_expect_exit 8 "$SSHRESCUE" check --image "$T/pv-inst.img" &&
	t_grep "temporary rename, which check does not do" "$T/err"
t_nothing_left "$T/pv-inst.img"
losetup -d "$LS"

t_done
