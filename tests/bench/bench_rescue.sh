#!/usr/bin/env bash
# bench_rescue.sh: `sshrescue repair --image` on a 100 MiB GPT image (root + separate /var,
# locked out by tcpd and DenyHosts), every policy included, against the same one-line edit
# done by hand (loop-mount the root partition at its offset, edit hosts.deny, unmount, sync),
# side by side in one run, alternating, median of 5 each. Goal: ratio <= 1.5.
set -eu
SSHRESCUE=${SSHRESCUE:?}
W=$(mktemp -d /var/tmp/sshrescue-bench.XXXXXX)
cleanup() {
	mountpoint -q "$W/m" 2>/dev/null && umount "$W/m"
	for img in "$W"/*.img; do
		[ -e "$img" ] || continue
		losetup -j "$img" | cut -d: -f1 | xargs -r losetup -d
	done
	rm -rf "$W"
}
trap cleanup EXIT
ROOT_TYPE=0FC63DAF-8483-4772-8E79-3D69D8477DE4

mkdir -p "$W/root/etc" "$W/root/usr/lib" "$W/root/var" "$W/var/lib/denyhosts" "$W/var/log" "$W/m"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' >"$W/root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$W/root/etc/os-release"
printf 'PARTLABEL=root / ext4 errors=remount-ro 0 1\nPARTLABEL=var /var ext4 defaults 0 2\n' >"$W/root/etc/fstab"
echo locked-out >"$W/root/etc/hostname"
: >"$W/root/etc/hosts.allow"
printf 'WORK_DIR = /var/lib/denyhosts\n' >"$W/root/etc/denyhosts.conf"
printf '# DenyHosts: Tue Nov 24 10:00:00 2026 | sshd: 203.0.113.5\nsshd: 203.0.113.5\nsshd: ALL\n' >"$W/root/etc/hosts.deny"
printf '203.0.113.5:40:Tue Nov 24 10:00:00 2026\n' >"$W/var/lib/denyhosts/hosts"
truncate -s 100M "$W/pristine.img"
sfdisk -q "$W/pristine.img" <<EOF
label: gpt
start=2048, size=122880, type=$ROOT_TYPE, name=root
start=124928, size=77824, type=$ROOT_TYPE, name=var
EOF
mkfs.ext4 -q -F -E offset=$((2048 * 512)) -d "$W/root" "$W/pristine.img" 61440k >/dev/null
mkfs.ext4 -q -F -E offset=$((124928 * 512)) -d "$W/var" "$W/pristine.img" 38912k >/dev/null

ms() { echo $(($(date +%s%N) / 1000000)); }
hand=() tool=()
for i in 1 2 3 4 5; do
	cp "$W/pristine.img" "$W/hand.img"
	cp "$W/pristine.img" "$W/tool.img"
	sync
	s=$(ms)
	mount -o loop,offset=$((2048 * 512)),sizelimit=$((122880 * 512)) "$W/hand.img" "$W/m"
	sed -i '/^sshd: ALL$/d' "$W/m/etc/hosts.deny"
	umount "$W/m"
	sync
	hand+=($(($(ms) - s)))
	sync
	s=$(ms)
	rc=0
	"$SSHRESCUE" -q repair --image "$W/tool.img" --protect 203.0.113.0/24 >/dev/null 2>"$W/err" || rc=$?
	sync
	tool+=($(($(ms) - s)))
	if [ "$rc" != 1 ]; then
		echo "bench rescue: repair exited $rc, want 1 (repaired):"
		sed 's/^/  /' "$W/err" | head -5
		echo "bench rescue: goal MISSED (the repair did not run)"
		exit 0
	fi
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
h=$(median "${hand[@]}")
t=$(median "${tool[@]}")
ratio=$(awk -v t="$t" -v h="$h" 'BEGIN { printf "%.2f", t / (h ? h : 1) }')
echo "bench rescue: by hand (mount -o loop,offset + edit + umount + sync): median ${h} ms (${hand[*]})"
echo "bench rescue: sshrescue repair --image, every policy: median ${t} ms (${tool[*]})"
echo "bench rescue: ratio ${ratio}x (goal <= 1.5x)"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 1.5) }'; then
	echo "bench rescue: goal met"
else
	echo "bench rescue: goal MISSED (ratio ${ratio}x > 1.5x)"
fi
