#cloud-boothook
#!/bin/sh
# hooks/cloud-boothook.sh: cloud-init user data (a boothook: cloud-init runs it early at every
# boot, before sshd starts). Installs the policy and runs `sshrescue repair --root /` until one
# run succeeds (recorded in /var/lib/sshrescue/boot-done). Edit the values below; give the file
# as the instance's user data (see README: AWS, GCP, Azure, KVM). With SSHRESCUE_BIN_URL the
# instance needs no sshrescue: the static binary is fetched (curl, wget or python3) into
# /var/lib/sshrescue/sshrescue and run only when its sha256 is SSHRESCUE_BIN_SHA256.
PROTECT="203.0.113.0/24"               # the owner's networks, space separated; "" = every source
REPORT_URL=""                          # where the JSON report goes; "" = nowhere
SSHRESCUE_BIN_URL=""                   # the static sshrescue (make static) to fetch; "" = installed
SSHRESCUE_BIN_SHA256=""                # its sha256 (sshrescue-ARCH.sha256): a mismatch runs nothing

root=${SSHRESCUE_ROOT:-/}
root=${root%/}
done_file=$root/var/lib/sshrescue/boot-done
[ -e "$done_file" ] && exit 0
mkdir -p "$root/etc/sshrescue" "$root/var/lib/sshrescue"

# the policy: the values above, written on every boot until done
umask 077
{
	echo "[agent]"
	echo "protect = $PROTECT"
	echo "[report]"
	echo "url = $REPORT_URL"
} >"$root/etc/sshrescue/policy.ini.new" && mv "$root/etc/sshrescue/policy.ini.new" "$root/etc/sshrescue/policy.ini"
umask 022

# ---- fetch and verify (the same in cloud-runcommand.sh) ----
sshrescue_sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
	fi
}
# sshrescue_fetch URL SHA256 DEST: DEST is the program at URL when its sha256 is SHA256; else
# DEST is left alone, nothing runs, and the message says why (status 1)
sshrescue_fetch() {
	case "$2" in
	????????????????????????????????????????????????????????????????) ;;
	*) echo "sshrescue: the sha256 of $1 must be 64 hexadecimal digits, not '$2'" >&2; return 1 ;;
	esac
	case "$2" in *[!0-9a-f]*)
		echo "sshrescue: the sha256 of $1 must be 64 lowercase hexadecimal digits" >&2
		return 1
		;;
	esac
	[ -f "$3" ] && [ "$(sshrescue_sha256 "$3")" = "$2" ] && return 0
	mkdir -p "${3%/*}" && rm -f "$3.part" || return 1
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 2 --max-time 300 -o "$3.part" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$3.part" "$1"
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import shutil, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=60) as r, open(sys.argv[2], "wb") as f:
    shutil.copyfileobj(r, f)' "$1" "$3.part"
	else
		echo "sshrescue: cannot fetch $1: no curl, wget or python3 on this instance" >&2
		return 1
	fi || { echo "sshrescue: fetching $1 failed" >&2; rm -f "$3.part"; return 1; }
	got=$(sshrescue_sha256 "$3.part")
	if [ "$got" != "$2" ]; then
		echo "sshrescue: $1 has sha256 ${got:-(no sha256sum, openssl or python3 to compute it)}, not $2: refusing to run it" >&2
		rm -f "$3.part"
		return 1
	fi
	chmod 0700 "$3.part" && mv -f "$3.part" "$3"
}
# ---- end of fetch and verify ----
if [ -n "$SSHRESCUE_BIN_URL" ]; then
	bin=$root/var/lib/sshrescue/sshrescue
	umask 077
	sshrescue_fetch "$SSHRESCUE_BIN_URL" "$SSHRESCUE_BIN_SHA256" "$bin" ||
		{ echo "sshrescue boothook: nothing run; it tries again at the next boot" >&2; exit 0; }
	umask 022
else
	bin=${SSHRESCUE:-}
	for b in "$bin" "$(command -v sshrescue 2>/dev/null)" /usr/local/sbin/sshrescue /usr/sbin/sshrescue; do
		[ -n "$b" ] && [ -x "$b" ] && { bin=$b; break; }
	done
fi
[ -x "$bin" ] || { echo "sshrescue boothook: no sshrescue on this instance" >&2; exit 0; }

"$bin" -c "$root/etc/sshrescue/policy.ini" repair --root "${root:-/}" --no-reboot
rc=$?
# success unless problems remain (4), an operational (8) or usage (16) error; an undelivered
# report (2) stays spooled on the instance
if [ $((rc & 28)) -eq 0 ]; then
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) exit $rc" >"$done_file"
else
	echo "sshrescue boothook: sshrescue exited $rc; it runs again at the next boot" >&2
fi
exit 0
