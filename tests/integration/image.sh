#!/usr/bin/env bash
# image.sh: the rescue image booted for real. qemu-system-x86_64 (software emulation) boots
# image/build's kernel and initramfs with a locked-out instance disk attached
# (tests/fixtures/lvmdisk: GPT, root and a separate /var on LVM VG vg0, hosts.deny refusing
# sshd, fail2ban's database banning the owner, MaxStartups 1) and a user network with
# restrict=on whose only way out is a guestfwd from 169.254.169.254:80 to http_recorder.py.
# The image must repair, deliver the report there, print the summary on the serial console and
# power off by itself within the time README promises. A second boot ("judge") copies the
# repaired LVs out onto two more virtio disks; the host reads them as files (e2fsck, debugfs,
# no mount) and asks the real programs: tcpdmatch, sshd -t/-T chrooted into the repaired root,
# and fail2ban restarted on the repaired configuration and database.
# Boots: 2 (plus one, cached, to build the instance disk).
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/fixtures/qemu.sh"

# README: "powers off within 90 s under software emulation" (measured: 18-30 s)
PROMISE=90
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

for p in qemu-system-x86_64 zstd cpio lvm depmod debugfs e2fsck sfdisk tcpdmatch fail2ban-client \
	sqlite3 jq python3 unshare; do
	command -v "$p" >/dev/null || {
		echo "FAIL image.sh: $p is missing (tests/deps installs qemu-system-x86, zstd, cpio, lvm2, kmod, ...)"
		exit 1
	}
done
[ -x /bin/busybox ] || { echo "FAIL image.sh: /bin/busybox is missing (busybox-static)"; exit 1; }

t_without_sshrescue "image/build (make image): the kernel and an initramfs under 20 MiB (zstd)"
t_fixture IMG image || exit 1
size=$(stat -c %s "$IMG/initramfs.img")
# the goal is the release build's; a SANITIZE=1 binary brings the ASan and UBSan runtimes
limit=20
ldd "${SSHRESCUE_BIN:-$SSHRESCUE}" 2>/dev/null | grep -q libasan && limit=28
[ "$size" -lt $((limit * 1024 * 1024)) ] || t_fail "initramfs is $size bytes (limit $limit MiB)"
echo "     initramfs: $size bytes; kernel: $(stat -c %s "$IMG/vmlinuz") bytes"
zstd -dc "$IMG/initramfs.img" | cpio -it --quiet >"$T/list" 2>/dev/null
for f in init usr/sbin/sshrescue usr/sbin/lvm usr/bin/busybox usr/share/udhcpc/default.script \
	etc/lvm/lvm.conf usr/lib64/ld-linux-x86-64.so.2; do
	grep -qx "$f" "$T/list" || t_fail "$f is not in the initramfs"
done
for m in virtio_blk virtio_net ext4 xfs btrfs dm-mod loop; do
	grep -q "/$m\.ko$" "$T/list" || t_fail "module $m is not in the initramfs"
done

t_precondition "the instance disk is locked out before the repair (the trees it was made of)"
t_fixture DISK0 lvmdisk "$IMG" || exit 1
FIX=$(dirname "$DISK0")/tree
[ "$(t_tcpd "$FIX" sshd 203.0.113.5)" = denied ] || t_fail "tcpd does not deny sshd"
sqlite3 "$FIX/var/lib/fail2ban/fail2ban.sqlite3" "select ip from bips where jail = 'sshd'" >"$T/bans0"
t_grep '^203\.0\.113\.5$' "$T/bans0" && t_grep '^198\.51\.100\.7$' "$T/bans0"
t_grep '^MaxStartups 1$' "$FIX/etc/ssh/sshd_config"

# ---- the rescue boot --------------------------------------------------------------------
cp --sparse=always "$DISK0" "$T/disk.raw"
"$TOP/tests/integration/http_recorder.py" --dir "$T/rec" 2>"$T/rec.log" &
t_defer "kill $!"
for ((i = 0; i < 300; i++)); do [ -s "$T/rec/port" ] && break; sleep 0.05; done
PORT=$(cat "$T/rec/port") || { echo "FAIL image.sh: http_recorder.py did not start"; exit 1; }

# the report's URL comes in a whole policy file, base64 on the kernel command line
POLICY64=$(printf '[report]\nurl = http://169.254.169.254/v1/rescue-report\nattempts = 2\n' | base64 -w0)

t_case "the image boots, repairs and powers off by itself within $PROMISE s"
start=$(date +%s%N)
qemu_boot "$T/console.raw" $((PROMISE + 30)) "$IMG/vmlinuz" "$IMG/initramfs.img" \
	"sshrescue.protect=203.0.113.0/24 sshrescue.policy=$POLICY64" \
	-netdev "$(qemu_net "$PORT")" -device virtio-net-pci,netdev=n0,romfile= \
	-drive "file=$T/disk.raw,format=raw,if=virtio"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
# the console as text: no carriage returns, no terminal escapes of the firmware
tr -d '\r' <"$T/console.raw" | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' >"$T/console"
echo "     boot to power-off: $ms ms"
[ "$rc" = 0 ] || t_fail "qemu exited $rc (124: still running after $((PROMISE + 30)) s)"
[ "$ms" -le $((PROMISE * 1000)) ] || t_fail "took $ms ms, README promises $PROMISE s"
t_grep 'reboot: Power down' "$T/console" || tail -n 30 "$T/console"
# powered off after a repair, not instead of one
REPAIRED=0
grep -q '^sshrescue-image: .*sshrescue exited 1$' "$T/console" && REPAIRED=1
[ "$REPAIRED" = 1 ] || t_fail "no repair before the power-off (sshrescue's exit status on the console is not 1)"

t_case "the serial console shows the summary: every policy repaired, the report delivered"
for want in '^sshrescue: hosts_access: repaired' '^sshrescue: fail2ban: repaired' '^sshrescue: sshd: repaired' \
	'^sshrescue: delivery: delivered to http://169.254.169.254/v1/rescue-report' '^SSHRESCUE-REPORT ' \
	'^sshrescue-image: .*policy from the kernel command line' '^sshrescue-image: .*sshrescue exited 1$'; do
	# (unanchored: a kernel message may end on the console just ahead of a line of ours)
	grep -q -e "${want#^}" "$T/console" || { t_fail "'$want' not on the console"; bad=1; }
done
[ "${bad:-0}" = 0 ] || grep -E '^(sshrescue|sshrescue-image):' "$T/console" | cut -c1-200 | sed 's/^/       | /'

t_case "the report arrived at the metadata address through the guestfwd, once"
n=$(find "$T/rec" -name '[0-9]*.json' | wc -l)
[ "$n" = 1 ] || t_fail "$n requests recorded"
if [ -e "$T/rec/0001.json" ]; then
	jq -e '.method == "POST" and .path == "/v1/rescue-report"' "$T/rec/0001.json" >/dev/null ||
		t_fail "request: $(cat "$T/rec/0001.json")"
	B=$T/rec/0001.body
	jq -e '.exit_status == 1 and .command == "repair" and .instance.hostname == "locked-out"' "$B" \
		>/dev/null || t_fail "report: $(jq -c '{exit_status, command, instance}' "$B")"
	for p in hosts_access fail2ban sshd; do
		[ "$(jq -r --arg p "$p" '.policies[] | select(.name == $p) | .status' "$B")" = repaired ] ||
			t_fail "policy $p: $(jq -c --arg p "$p" '.policies[] | select(.name == $p)' "$B")"
	done
	[ "$(jq -r '[.target.mounts[].instance_path] | join(" ")' "$B")" = "/ /var" ] ||
		t_fail "mounts: $(jq -c .target "$B")"
	jq -r '.target.device' "$B" | grep -q 'vg0' || t_fail "root not on vg0: $(jq -c .target "$B")"
else
	t_fail "no report"
fi

# ---- the judge boot: the repaired LVs onto two disks of the host's ------------------------
cat >"$T/judge" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin LVM_SUPPRESS_FD_WARNINGS=1
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
exec >/dev/console 2>&1
for m in virtio_pci virtio_blk dm-mod; do modprobe $m; done
n=0; while [ ! -b /dev/vdc ]; do sleep 0.1; n=$((n+1)); [ $n -lt 100 ] || break; done
lvm vgchange -ay vg0 &&
	dd if=/dev/mapper/vg0-root of=/dev/vdb bs=1M 2>/dev/null &&
	dd if=/dev/mapper/vg0-var of=/dev/vdc bs=1M 2>/dev/null &&
	lvm vgchange -an vg0 && sync && echo JUDGE-DONE
poweroff -f
INIT
qemu_tools_cpio "$T/judge.cpio" "$T/judge"
cat "$IMG/initramfs.img" "$T/judge.cpio" >"$T/judge.initrd"
truncate -s 200M "$T/root.lv"
truncate -s 40M "$T/var.lv"

t_case "a second boot copies the repaired LVs out: both are clean filesystems"
[ "$REPAIRED" = 1 ] || t_fail "the first boot repaired nothing: nothing to judge"
qemu_boot "$T/judge.raw" 120 "$IMG/vmlinuz" "$T/judge.initrd" "rdinit=/test-init" \
	-drive "file=$T/disk.raw,format=raw,if=virtio,snapshot=on" \
	-drive "file=$T/root.lv,format=raw,if=virtio" -drive "file=$T/var.lv,format=raw,if=virtio"
if grep -aq JUDGE-DONE "$T/judge.raw"; then
	e2fsck -fn "$T/root.lv" >"$T/fsck" 2>&1 || { t_fail "root LV not clean"; tail "$T/fsck"; }
	e2fsck -fn "$T/var.lv" >"$T/fsck" 2>&1 || { t_fail "var LV not clean"; tail "$T/fsck"; }
else
	t_fail "the judge boot failed"
	tail -n 30 "$T/judge.raw"
fi

# The repaired instance, read out of the LV images by debugfs (no mount): every top-level
# directory of the root but /usr (its programs, sshd among them, are those of the debroot the
# disk was made from: hard links to it, which saves 10 s of debugfs), and all of /var.
J=$T/jroot
mkdir -p "$J/var"
debugfs -R "ls /" "$T/root.lv" 2>/dev/null | tr -s ' ' '\n' | grep -Ev '^(\.|\.\.|lost\+found|var|usr|)$' |
	while read -r e; do debugfs -R "rdump /$e $J" "$T/root.lv" >/dev/null 2>&1; done
debugfs -R "ls /" "$T/var.lv" 2>/dev/null | tr -s ' ' '\n' | grep -Ev '^(\.|\.\.|lost\+found|)$' |
	while read -r e; do debugfs -R "rdump /$e $J/var" "$T/var.lv" >/dev/null 2>&1; done
t_fixture DEBROOT debroot || exit 1
cp -al "$DEBROOT/usr" "$J/usr" 2>/dev/null || cp -a "$DEBROOT/usr" "$J/usr"
for e in bin lib lib64 sbin; do [ -e "$J/$e" ] || ln -s "usr/$e" "$J/$e"; done

t_case "tcpdmatch: sshd is granted to 203.0.113.5 again, 198.51.100.7 stays denied"
[ "$(t_tcpd "$J" sshd 203.0.113.5)" = granted ] ||
	t_fail "sshd denied to 203.0.113.5: hosts.allow $(tr '\n' '|' <"$J/etc/hosts.allow" 2>&1)"
[ "$(t_tcpd "$J" sshd 198.51.100.7)" = denied ] || t_fail "198.51.100.7 is no longer denied"

t_case "the instance's own sshd, chrooted: sshd -t passes, sshd -T shows MaxStartups 10:30:100"
in_root() { # root program args...
	local root=$1
	shift
	unshare -m bash -c '
		root=$1; shift
		mount --make-rprivate /
		mount -t tmpfs tmpfs "$root/run" && mkdir -m 0755 "$root/run/sshd" &&
		mount -t tmpfs tmpfs "$root/dev" && touch "$root/dev/null" &&
		mount --bind /dev/null "$root/dev/null" || exit 99
		exec chroot "$root" "$@"' in_root "$root" "$@"
}
in_root "$J" /usr/sbin/sshd -t >"$T/sshd-t" 2>&1 || { t_fail "sshd -t fails"; cat "$T/sshd-t"; }
in_root "$J" /usr/sbin/sshd -T >"$T/sshd-T" 2>&1
t_grep '^maxstartups 10:30:100$' "$T/sshd-T"

t_case "fail2ban restarted on the repaired files restores 198.51.100.7's ban, not 203.0.113.5's"
[ "$REPAIRED" = 1 ] || t_fail "the rescue boot repaired nothing: no repaired files to restart on"
f2b() { timeout 20 fail2ban-client -s "$J/var/lib/fail2ban/fail2ban.sock" "$@"; }
f2b_stop() {
	local pid
	f2b stop >/dev/null 2>&1
	pid=$(cat "$J/var/lib/fail2ban/fail2ban.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	return 0
}
t_defer f2b_stop
# (its stock iptables action in a network namespace of its own)
if timeout 60 unshare -m -n --propagation private bash -c '
	mount --bind "$1/etc/fail2ban" /etc/fail2ban && mount --bind "$1/var/lib/fail2ban" /var/lib/fail2ban &&
		mount --bind "$1/var/log" /var/log || exit 99
	exec fail2ban-client -x start' f2b "$J" >"$T/f2b.out" 2>&1; then
	for ((i = 0; i < 100; i++)); do
		f2b status sshd >"$T/f2b.status" 2>&1 && grep -q '198.51.100.7' "$T/f2b.status" && break
		sleep 0.1
	done
	# fail2ban restores its bans one by one: the list once it has settled
	sleep 1
	f2b status sshd >"$T/f2b.status" 2>&1
	t_grep 'Banned IP list:.*198\.51\.100\.7' "$T/f2b.status"
	t_no_grep '203\.0\.113\.5' "$T/f2b.status"
	f2b_stop
else
	t_fail "fail2ban does not start on the repaired files"
	cat "$T/f2b.out" "$J/var/log/fail2ban.log" 2>/dev/null | tail -n 20
fi

t_case "the originals are kept on the instance, under /var/lib/sshrescue/backups"
ls "$J"/var/lib/sshrescue/backups/*/files/etc/hosts.allow >/dev/null 2>&1 ||
	t_fail "no backup of hosts.allow: $(find "$J/var/lib/sshrescue" 2>&1 | head)"
t_grep '^MaxStartups 1$' "$(ls -d "$J"/var/lib/sshrescue/backups/*/files/etc/ssh/sshd_config | head -n 1)"
t_done
