#!/usr/bin/env bash
# diskimage.sh: the rescue image as the bootable cloud disk of `make disk-image` (image/disk),
# booted as an instance is: firmware -> GRUB -> kernel -> init, with the locked-out instance
# disk (tests/fixtures/lvmdisk: GPT, LVM VG vg0 with root and a separate /var, hosts.deny,
# fail2ban's database and MaxStartups 1 locking the owner out) attached as the SECOND disk.
#   - the artifacts: the GPT layout (BIOS boot + ESP), the ESP's files read with mtools, the
#     .qcow2, the fixed .vhd (virtual size a multiple of 1 MiB) and GCE's tar (oldgnu, sparse,
#     disk.raw) hold the same disk as the .raw; the compressed ones are at most 40 MiB
#   - SeaBIOS, the .raw, both disks virtio; OVMF (UEFI) with Secure Boot enforced (Microsoft's
#     keys enrolled: shim, Debian's signed GRUB and kernel), the .qcow2, both disks NVMe (as on
#     AWS Nitro); SeaBIOS with a Linux root on the rescue disk itself, which must be left alone
# Each boot must repair, deliver the report with the cloud metadata flavor of the policy baked in
# (image/build's POLICY, as IMAGE_POLICY does: x86_64 GCE guest attributes, aarch64 AWS IMDSv2
# identity + POST, to http_recorder.py playing the metadata server at 169.254.169.254), print
# the summary on the serial console and power off by itself. The
# judge reads the repaired LVs out of the disk file (lvm reads the metadata through a read-only
# loop device; no device-mapper is needed) and asks tcpdmatch, sshd -t/-T chrooted into the
# repaired root, and sqlite3 on fail2ban's database.
# Boots: 3 (plus the cached one of tests/fixtures/lvmdisk).
#
# DISKIMAGE_ARCH=aarch64 (`make check-aarch64`, slow: not part of make check): the aarch64 disk,
# its rescue image cross-built by image/cross, booted by qemu-system-aarch64 -M virt with AAVMF
# (UEFI, Secure Boot on with Microsoft's keys), both disks NVMe as on Graviton.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/fixtures/qemu.sh"
ARCH=${DISKIMAGE_ARCH:-x86_64}

# each boot under software emulation, as README promises for the image (measured: 13-26 s alone,
# 46-48 s while other tests load both cores)
PROMISE=90
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export LVM_SUPPRESS_FD_WARNINGS=1

for p in qemu-system-$ARCH qemu-img socat grub-mkimage sgdisk mkfs.vfat mcopy mdir zstd cpio lvm depmod \
	debugfs e2fsck tcpdmatch sqlite3 jq python3 unshare losetup; do
	command -v "$p" >/dev/null || {
		echo "FAIL diskimage.sh: $p is missing (tests/deps installs qemu-utils, grub-common, mtools, dosfstools, ...)"
		exit 1
	}
done
# the firmware with Secure Boot on and Microsoft's keys enrolled (the clouds' Secure Boot too)
if [ "$ARCH" = x86_64 ]; then
	OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
	EFI=BOOTX64.EFI efi=x64 deb=amd64 fw=ovmf
else
	OVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.ms.fd OVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.ms.fd
	EFI=BOOTAA64.EFI efi=aa64 deb=arm64 fw=qemu-efi-aarch64
fi
[ -e "$OVMF_CODE" ] || { echo "FAIL diskimage.sh: $OVMF_CODE is missing ($fw)"; exit 1; }

# ---- the disk image, with a policy baked in --------------------------------------------------
t_without_sshrescue "image/build with a policy ($ARCH), then image/disk: .raw, .qcow2, .vhd and -gce.tar.gz"
# GCE for x86_64 (the -gce.tar.gz), AWS for aarch64 (Graviton)
if [ "$ARCH" = x86_64 ]; then
	FLAVOR=gce-guest-attributes MODE=gce URL=http://169.254.169.254
	DELIVERED=$URL/computeMetadata/v1/instance/guest-attributes/sshrescue/report
else
	FLAVOR=aws-imdsv2 MODE=aws URL=http://169.254.169.254/v1/rescue-report DELIVERED=$URL
fi
printf '[agent]\nprotect = 203.0.113.0/24\n\n[report]\nflavor = %s\nurl = %s\nattempts = 2\n' \
	"$FLAVOR" "$URL" >"$T/policy.ini"
bin=${SSHRESCUE_BIN:-$SSHRESCUE}
if [ "$ARCH" = x86_64 ]; then
	IMG=$T/img
	SSHRESCUE=$bin "$TOP/image/build" "$IMG" "$T/policy.ini" >"$T/build.log" 2>&1
else
	IMG=$T/cross/image bin=$T/cross/build/sshrescue
	"$TOP/image/cross" "$ARCH" "$T/cross" "$T/policy.ini" >"$T/build.log" 2>&1
fi || { t_fail "image/build failed"; tail -n 20 "$T/build.log"; exit 1; }
"$TOP/image/disk" "$T/disk" "$IMG" "$ARCH" >"$T/disk.out" 2>"$T/disk.log" ||
	{ t_fail "image/disk failed"; tail -n 20 "$T/disk.log"; exit 1; }
[ -s "$T/disk.out" ] && t_fail "image/disk wrote to stdout: $(head -c 200 "$T/disk.out")"
N=$T/disk/sshrescue-rescue-$ARCH
RAW=$N.raw
for f in "$RAW" "$N.qcow2" "$N.vhd" "$N-gce.tar.gz"; do
	[ -s "$f" ] || t_fail "$f is missing"
done
[ -s "$RAW" ] || exit 1

if [ "$ARCH" = x86_64 ]; then
	t_without_sshrescue "the .raw: 1 GiB GPT, partition 1 BIOS boot with GRUB's core.img, partition 2 the ESP"
else
	t_without_sshrescue "the .raw: 1 GiB GPT, partition 2 the ESP"
fi
[ "$(stat -c %s "$RAW")" = $((1024 * 1024 * 1024)) ] || t_fail "size $(stat -c %s "$RAW")"
sgdisk -v "$RAW" >"$T/sgv" 2>&1 || { t_fail "sgdisk -v: $(cat "$T/sgv")"; }
sgdisk -i 2 "$RAW" >"$T/p2" 2>&1
t_grep '^Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B (EFI system partition)' "$T/p2"
ESP_SECTOR=$(sed -n 's/^First sector: \([0-9]*\) .*/\1/p' "$T/p2")
ESP_UUID=$(sed -n 's/^Partition unique GUID: //p' "$T/p2" | tr 'A-F' 'a-f')
if [ "$ARCH" = x86_64 ]; then
sgdisk -i 1 "$RAW" >"$T/p1" 2>&1
t_grep '^Partition GUID code: 21686148-6449-6E6F-744E-656564454649 (BIOS boot partition)' "$T/p1"
t_grep '^First sector: 2048 ' "$T/p1"
# the MBR: GRUB's boot code, the protective partition table, the boot signature
[ "$(od -An -tx1 -j510 -N2 "$RAW" | tr -d ' ')" = 55aa ] || t_fail "no MBR boot signature"
od -An -c -N512 "$RAW" | tr -d ' \n' | grep -q 'GRUB' || t_fail "no GRUB boot code in the MBR"
[ "$(od -An -tu8 -j$((0x5c)) -N8 "$RAW" | tr -d ' ')" = 2048 ] || t_fail "boot.img does not point at LBA 2048"
[ "$(dd if="$RAW" bs=512 skip=2048 count=1 status=none | tr -d '\0' | wc -c)" -gt 0 ] ||
	t_fail "the BIOS boot partition is empty"
fi

t_without_sshrescue "the ESP (FAT32, read with mtools): Debian's signed shim and GRUB, the kernel, the initramfs, grub.cfg"
export MTOOLS_SKIP_CHECK=1
E="$RAW@@$((ESP_SECTOR * 512))"
mkdir -p "$T/esp"
for f in "EFI/BOOT/$EFI" "EFI/BOOT/grub$efi.efi" EFI/debian/grub.cfg boot/grub/grub.cfg vmlinuz initrd.img; do
	mcopy -n -i "$E" "::/$f" "$T/esp/${f//\//_}" 2>"$T/mtools.err" || t_fail "$f: $(cat "$T/mtools.err")"
done
mv "$T/esp/EFI_BOOT_$EFI" "$T/esp/$EFI"
mv "$T/esp/boot_grub_grub.cfg" "$T/esp/grub.cfg"
cmp -s "$T/esp/$EFI" "$("$TOP/tests/fixtures/debpkg" "shim-signed:$deb")/usr/lib/shim/shim$efi.efi.signed" ||
	t_fail "$EFI is not shim-signed's shim$efi.efi.signed"
cmp -s "$T/esp/EFI_BOOT_grub$efi.efi" \
	"$("$TOP/tests/fixtures/debpkg" "grub-efi-$deb-signed:$deb")"/usr/lib/grub/*-efi-signed/grub$efi.efi.signed ||
	t_fail "grub$efi.efi is not grub-efi-$deb-signed's"
t_same "$T/esp/grub.cfg" "$T/esp/EFI_debian_grub.cfg"
cmp -s "$T/esp/vmlinuz" "$IMG/vmlinuz" || t_fail "the ESP's kernel is not image/build's"
cmp -s "$T/esp/initrd.img" "$IMG/initramfs.img" || t_fail "the ESP's initramfs is not image/build's"
[ "$(head -c 2 "$T/esp/$EFI")" = MZ ] || t_fail "$EFI is no PE image"
t_grep "^linux /vmlinuz .* sshrescue.self=PARTUUID=$ESP_UUID " "$T/esp/grub.cfg"
t_grep '^initrd /initrd.img$' "$T/esp/grub.cfg"
zstd -dc "$IMG/initramfs.img" | cpio -i --quiet --to-stdout etc/sshrescue/policy.ini >"$T/baked" 2>/dev/null
t_same "$T/policy.ini" "$T/baked"

t_without_sshrescue "the .qcow2 and the fixed .vhd hold the same disk; the .vhd is a multiple of 1 MiB"
qemu-img compare -q -f raw -F qcow2 "$RAW" "$N.qcow2" || t_fail "qcow2 differs from the raw disk"
qemu-img info -f vpc --output=json "$N.vhd" >"$T/vhd.json"
jq -e '.format == "vpc" and ."virtual-size" == 1073741824 and (."virtual-size" % 1048576 == 0)' \
	"$T/vhd.json" >/dev/null || t_fail "vhd: $(jq -c . "$T/vhd.json")"
# a fixed VHD: the disk, then a 512-byte footer ("conectix", disk type 2 = fixed)
[ "$(stat -c %s "$N.vhd")" = $((1073741824 + 512)) ] || t_fail "vhd file size $(stat -c %s "$N.vhd")"
[ "$(tail -c 512 "$N.vhd" | head -c 8)" = conectix ] || t_fail "no VHD footer"
[ "$(tail -c 512 "$N.vhd" | od -An -tu1 -j63 -N1 | tr -d ' ')" = 2 ] || t_fail "the VHD is not fixed"
qemu-img compare -q -f raw -F vpc "$RAW" "$N.vhd" || t_fail "vhd differs from the raw disk"

t_without_sshrescue "the GCE tar: only disk.raw, GNU oldgnu format, sparse, the same disk"
tar -tzvf "$N-gce.tar.gz" >"$T/tar.list"
[ "$(awk '{ print $NF }' "$T/tar.list")" = disk.raw ] || t_fail "members: $(cat "$T/tar.list")"
gzip -dc "$N-gce.tar.gz" | head -c 512 >"$T/tar.hdr"
[ "$(od -An -c -j257 -N8 "$T/tar.hdr" | tr -d ' ')" = 'ustar\0' ] || t_fail "not oldgnu: $(od -An -c -j257 -N8 "$T/tar.hdr")"
[ "$(dd if="$T/tar.hdr" bs=1 skip=156 count=1 status=none)" = S ] || t_fail "disk.raw is not stored sparse"
mkdir -p "$T/gce"
tar -C "$T/gce" -xzf "$N-gce.tar.gz" && cmp -s "$T/gce/disk.raw" "$RAW" || t_fail "disk.raw differs"
rm -rf "$T/gce"

t_without_sshrescue "sizes: .qcow2 and -gce.tar.gz at most 40 MiB, the initramfs at most 20 MiB"
limit=20
ldd "$bin" 2>/dev/null | grep -q libasan && limit=28
for f in "$N.qcow2:40" "$N-gce.tar.gz:40" "$IMG/initramfs.img:$limit"; do
	s=$(stat -c %s "${f%:*}")
	echo "     ${f%:*}: $s bytes"
	[ "$s" -le $((${f##*:} * 1024 * 1024)) ] || t_fail "${f%:*} is $s bytes (limit ${f##*:} MiB)"
done

# ---- the boots --------------------------------------------------------------------------------
# (the instance disk is made by an x86_64 boot of image/build's image)
X86=$T/img
[ "$ARCH" = x86_64 ] || X86=$("$TOP/tests/fixtures/image" 2>"$T/image.err") ||
	{ t_fail "tests/fixtures/image failed"; cat "$T/image.err"; exit 1; }
DISK0=$("$TOP/tests/fixtures/lvmdisk" "$X86" 2>"$T/lvmdisk.err") ||
	{ t_fail "tests/fixtures/lvmdisk failed"; cat "$T/lvmdisk.err"; exit 1; }
DEBROOT=$("$TOP/tests/fixtures/debroot")

# boot NAME QEMU-ARGS...: the rescue disk and the instance disk in the args; a recorder for the
# report; the console as text in $T/NAME.console, the time in $T/NAME.ms, the requests in
# $T/NAME.rec. The metadata flavors make several requests: the guestfwd starts a socat to the
# recorder for each connection (a chardev guestfwd carries one connection only).
boot() {
	local name=$1 port rc start ms
	shift
	"$TOP/tests/integration/http_recorder.py" --dir "$T/$name.rec" --mode "$MODE" 2>"$T/$name.rec.log" &
	t_defer "kill $!"
	for ((i = 0; i < 300; i++)); do [ -s "$T/$name.rec/port" ] && break; sleep 0.05; done
	port=$(cat "$T/$name.rec/port") || { t_fail "http_recorder.py did not start"; return 1; }
	start=$(date +%s%N)
	timeout -k 5 $((PROMISE + 60)) qemu-system-$ARCH -m 768 -smp 1 -nodefaults -nographic \
		-no-reboot -display none -monitor none -serial "file:$T/$name.console.raw" \
		-netdev "$(qemu_net "$port" | sed "s/-tcp:127.0.0.1:$port\$/-cmd:socat - TCP:127.0.0.1:$port/")" -device virtio-net-pci,netdev=n0,romfile= "$@" </dev/null
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	tr -d '\r' <"$T/$name.console.raw" | sed -E 's/\x1b\[[0-9;?=]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' \
		>"$T/$name.console"
	echo "     $name: boot to power-off $ms ms"
	echo "$ms" >"$T/$name.ms"
	[ "$rc" = 0 ] || { t_fail "qemu exited $rc (124: still running after $((PROMISE + 60)) s)"; tail -n 30 "$T/$name.console"; return 1; }
	[ "$ms" -le $((PROMISE * 1000)) ] || t_fail "took $ms ms, more than $PROMISE s"
	t_grep 'reboot: Power down' "$T/$name.console"
}

# the console and the recorder of boot NAME: repaired, delivered, excluded its own disk
judge_console() { # name
	local c=$T/$1.console want bad=0
	for want in "sshrescue rescue disk: loading" \
		"^sshrescue-image: .*sshrescue repair .*--exclude PARTUUID=$ESP_UUID" \
		'^sshrescue: hosts_access: repaired' '^sshrescue: fail2ban: repaired' '^sshrescue: sshd: repaired' \
		"^sshrescue: delivery: delivered to $DELIVERED " '^SSHRESCUE-REPORT ' \
		'^sshrescue-image: .*sshrescue exited 1$'; do
		grep -q -e "${want#^}" "$c" || { t_fail "'$want' not on the console"; bad=1; }
	done
	[ $bad = 0 ] || grep -E '^(sshrescue|sshrescue-image|error):' "$c" | cut -c1-200 | sed 's/^/       | /'
	local b r=$T/$1.rec
	if [ "$MODE" = gce ]; then
		# PUT guest-attributes/sshrescue/report (the JSON), then .../summary
		b=$r/0001.body
		jq -e '.method == "PUT" and .path == "/computeMetadata/v1/instance/guest-attributes/sshrescue/report"' \
			"$r/0001.json" >/dev/null 2>&1 || t_fail "request 1: $(cat "$r/0001.json" 2>&1)"
		jq -e '.path == "/computeMetadata/v1/instance/guest-attributes/sshrescue/summary"' "$r/0002.json" \
			>/dev/null 2>&1 || t_fail "request 2: $(cat "$r/0002.json" 2>&1)"
	else
		# IMDSv2: PUT the token, GET the identity document, POST the report with it
		b=$r/0003.body
		jq -e '.method == "POST" and .path == "/v1/rescue-report"' "$r/0003.json" >/dev/null 2>&1 ||
			t_fail "request 3: $(cat "$r/0003.json" 2>&1); events: $(tr '\n' '|' <"$r/events")"
		jq -e '.aws_identity.instanceId | startswith("i-")' "$b" >/dev/null 2>&1 ||
			t_fail "no aws_identity in the report"
	fi
	[ -e "$b" ] || { t_fail "no report delivered"; return 1; }
	jq -e '.exit_status == 1 and .command == "repair" and .instance.hostname == "locked-out"' "$b" \
		>/dev/null || t_fail "report: $(jq -c '{exit_status, command, instance}' "$b")"
	[ "$(jq -r '.target.device' "$b")" = /dev/mapper/vg0-root ] &&
		[ "$(jq -r '[.target.mounts[].instance_path] | join(" ")' "$b")" = "/ /var" ] ||
		t_fail "target: $(jq -c .target "$b")"
}

# The repaired instance of disk file DISK, read without device-mapper: lvm reads vg0's metadata
# through a read-only loop device on the LVM partition; the LVs (linear) are copied out of the
# file at their extents and read with e2fsck and debugfs. Judged with the real programs.
judge_disk() { # disk.raw
	local disk=$1 J=$T/jroot l pe ext name range first last
	rm -rf "$J" "$T/lv"
	mkdir -p "$J/var" "$J/run" "$J/dev" "$T/lv"
	l=$(losetup -f --show -r -o $((4096 * 512)) "$disk") || { t_fail "losetup"; return 1; }
	pe=$(lvm pvs --devices "$l" --noheadings --units b --nosuffix -o pe_start | tr -d ' ')
	ext=$(lvm vgs --devices "$l" --noheadings --units b --nosuffix -o vg_extent_size vg0 | tr -d ' ')
	lvm lvs --devices "$l" --noheadings -o lv_name,seg_pe_ranges vg0 >"$T/lvs"
	losetup -d "$l"
	while read -r name range; do
		range=${range##*:}
		first=${range%-*} last=${range#*-}
		dd if="$disk" of="$T/lv/$name" bs=1M iflag=skip_bytes,count_bytes status=none \
			skip=$((4096 * 512 + pe + first * ext)) count=$(((last - first + 1) * ext))
	done <"$T/lvs"
	[ -s "$T/lv/root" ] && [ -s "$T/lv/var" ] || { t_fail "no LVs root and var: $(cat "$T/lvs")"; return 1; }
	e2fsck -fn "$T/lv/root" >"$T/fsck" 2>&1 || { t_fail "root LV not clean"; tail "$T/fsck"; }
	e2fsck -fn "$T/lv/var" >"$T/fsck" 2>&1 || { t_fail "var LV not clean"; tail "$T/fsck"; }
	for e in etc root; do debugfs -R "rdump /$e $J" "$T/lv/root" >/dev/null 2>&1; done
	debugfs -R "rdump /lib $J/var" "$T/lv/var" >/dev/null 2>&1
	cp -al "$DEBROOT/usr" "$J/usr" 2>/dev/null || cp -a "$DEBROOT/usr" "$J/usr"
	for e in bin lib lib64 sbin; do [ -e "$J/$e" ] || ln -s "usr/$e" "$J/$e"; done
	[ "$(t_tcpd "$J" sshd 203.0.113.5)" = granted ] ||
		t_fail "tcpd: sshd still denied to 203.0.113.5: hosts.allow $(tr '\n' '|' <"$J/etc/hosts.allow" 2>&1)"
	[ "$(t_tcpd "$J" sshd 198.51.100.7)" = denied ] || t_fail "tcpd: 198.51.100.7 is no longer denied"
	unshare -m bash -c '
		root=$1
		mount --make-rprivate /
		mount -t tmpfs tmpfs "$root/run" && mkdir -m 0755 "$root/run/sshd" &&
		mount -t tmpfs tmpfs "$root/dev" && touch "$root/dev/null" &&
		mount --bind /dev/null "$root/dev/null" || exit 99
		chroot "$root" /usr/sbin/sshd -t && chroot "$root" /usr/sbin/sshd -T' sshd "$J" >"$T/sshd-T" 2>&1 ||
		{ t_fail "sshd -t/-T fail in the repaired root"; tail -n 5 "$T/sshd-T"; }
	t_grep '^maxstartups 10:30:100$' "$T/sshd-T"
	sqlite3 "$J/var/lib/fail2ban/fail2ban.sqlite3" "select ip from bips where jail = 'sshd'" >"$T/bans" ||
		t_fail "fail2ban's database does not open"
	t_grep '^198\.51\.100\.7$' "$T/bans" && t_no_grep '^203\.0\.113\.5$' "$T/bans"
}

if [ "$ARCH" = aarch64 ]; then
	t_case "AAVMF (UEFI, Secure Boot) on -M virt: the .raw on NVMe boots (shim, GRUB), repairs the NVMe instance disk, powers off"
	cp --sparse=always "$RAW" "$T/a64.raw"
	cp "$OVMF_VARS" "$T/vars.fd"
	cp --sparse=always "$DISK0" "$T/inst-a64.raw"
	boot aarch64 -machine virt,accel=tcg -cpu cortex-a72 \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" -drive "if=pflash,format=raw,file=$T/vars.fd" \
		-drive "file=$T/a64.raw,format=raw,if=none,id=d0" -device nvme,drive=d0,serial=rescue0 \
		-drive "file=$T/inst-a64.raw,format=raw,if=none,id=d1" -device nvme,drive=d1,serial=instance1 &&
		judge_console aarch64
	t_case "AAVMF boot: the repaired disk passes tcpdmatch, sshd -t/-T and fail2ban's database"
	judge_disk "$T/inst-a64.raw"
	cmp -s "$T/a64.raw" "$RAW" || t_fail "the rescue disk was written to"
	echo "     boot to power-off: aarch64 AAVMF+NVMe $(cat "$T/aarch64.ms" 2>/dev/null) ms"
	t_done
	exit 0
fi

# 1. SeaBIOS (QEMU's default firmware), the .raw, both disks virtio: the rescue disk first
t_case "SeaBIOS: the .raw boots (GRUB i386-pc), repairs the instance disk attached second, powers off"
cp --sparse=always "$RAW" "$T/bios.raw"
cp --sparse=always "$DISK0" "$T/inst-bios.raw"
boot bios -machine pc,accel=tcg \
	-drive "file=$T/bios.raw,format=raw,if=virtio" -drive "file=$T/inst-bios.raw,format=raw,if=virtio" &&
	judge_console bios
t_case "SeaBIOS boot: the repaired disk passes tcpdmatch, sshd -t/-T and fail2ban's database"
judge_disk "$T/inst-bios.raw"
cmp -s "$T/bios.raw" "$RAW" || t_fail "the rescue disk was written to"
rm -f "$T/bios.raw" "$T/inst-bios.raw"

# 2. OVMF (UEFI), the .qcow2, both disks NVMe (AWS Nitro)
t_case "OVMF, Secure Boot enforced: the .qcow2 on NVMe boots (shim, GRUB), repairs the NVMe instance disk, powers off"
cp "$N.qcow2" "$T/uefi.qcow2"
cp "$OVMF_VARS" "$T/vars.fd"
cp --sparse=always "$DISK0" "$T/inst-uefi.raw"
boot uefi -machine q35,smm=on,accel=tcg -global driver=cfi.pflash01,property=secure,value=on \
	-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" -drive "if=pflash,format=raw,file=$T/vars.fd" \
	-drive "file=$T/uefi.qcow2,format=qcow2,if=none,id=d0" -device nvme,drive=d0,serial=rescue0 \
	-drive "file=$T/inst-uefi.raw,format=raw,if=none,id=d1" -device nvme,drive=d1,serial=instance1 &&
	judge_console uefi
grep -q 'BdsDxe: starting .*NVMe' "$T/uefi.console" || t_fail "OVMF did not start the NVMe disk"
t_case "OVMF boot: the repaired disk passes tcpdmatch, sshd -t/-T and fail2ban's database"
judge_disk "$T/inst-uefi.raw"
rm -f "$T/uefi.qcow2" "$T/inst-uefi.raw"

# 3. The rescue disk holding a Linux root of its own (partition 3): without --exclude the run
# would find two roots and repair neither; it must repair the instance and leave its own alone.
t_case "a Linux root on the rescue disk itself is never a candidate: the instance is repaired"
cp --sparse=always "$RAW" "$T/self.raw"
mkdir -p "$T/selfroot/etc" "$T/selfroot/usr/lib"
printf 'PRETTY_NAME="Rescue Disk Root"\nID=debian\n' >"$T/selfroot/etc/os-release"
echo 'LABEL=selfroot / ext4 defaults 0 1' >"$T/selfroot/etc/fstab"
printf 'sshd: ALL\n' >"$T/selfroot/etc/hosts.deny"
sgdisk -n 3:0:+64M -t 3:8300 -c 3:selfroot "$T/self.raw" >/dev/null
start3=$(sgdisk -i 3 "$T/self.raw" | sed -n 's/^First sector: \([0-9]*\) .*/\1/p')
mkfs.ext4 -q -F -L selfroot -E offset=$((start3 * 512)) -d "$T/selfroot" "$T/self.raw" 64M >/dev/null
cp "$T/self.raw" "$T/self.orig"
cp --sparse=always "$DISK0" "$T/inst-self.raw"
boot self -machine pc,accel=tcg \
	-drive "file=$T/self.raw,format=raw,if=virtio" -drive "file=$T/inst-self.raw,format=raw,if=virtio" &&
	judge_console self
cmp -s "$T/self.raw" "$T/self.orig" || t_fail "the rescue disk's own root was written to"
grep -q 'Rescue Disk Root' "$T/self.console" && t_fail "the rescue disk's root was considered"
rm -f "$T/self.raw" "$T/self.orig" "$T/inst-self.raw"

echo "     boot to power-off: SeaBIOS $(cat "$T/bios.ms" 2>/dev/null) ms, OVMF+NVMe $(cat "$T/uefi.ms" 2>/dev/null) ms, self-root $(cat "$T/self.ms" 2>/dev/null) ms"
t_done
