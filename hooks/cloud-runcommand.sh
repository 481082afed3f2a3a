#!/bin/sh
# hooks/cloud-runcommand.sh: the shell part shared by the clouds' run-command engines (AWS SSM
# document aws-ssm-sshrescue.json, Azure run-command, GCE startup-script): installs the policy
# and runs `sshrescue repair --root /` on a running, locked-out instance.
#   cloud-runcommand.sh PROTECT REPORT-URL [BIN-URL BIN-SHA256]
# PROTECT: networks (comma or space separated; "" = every source); REPORT-URL: "" = none.
# BIN-URL, BIN-SHA256: where to fetch the static sshrescue (make static) and its sha256; the
# instance needs no sshrescue then. It is fetched with curl, wget or python3, whichever the
# instance has, kept in /var/lib/sshrescue/sshrescue, and run only when its sha256 matches.
# The values may also come as the environment variables protect, reportUrl, binUrl and
# binSha256 (Azure's managed run-command passes parameters so).
# Output: a summary that fits the 4,096 bytes Azure returns, ending with where the full
# report is. SSHRESCUE_ROOT  the root (default /); SSHRESCUE  the binary (default: on PATH)
protect=${1-${protect:-}}
url=${2-${reportUrl:-}}
bin_url=${3-${binUrl:-}}
bin_sha=${4-${binSha256:-}}
root=${SSHRESCUE_ROOT:-/}
root=${root%/}
case "$protect$url$bin_url" in
*[!A-Za-z0-9.:/,\ _%?=\&+~@-]*)
	echo "sshrescue: refusing parameters with shell or ini metacharacters" >&2
	exit 16
	;;
esac
# ---- fetch and verify (the same in cloud-boothook.sh) ----
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
if [ -n "$bin_url" ]; then
	bin=$root/var/lib/sshrescue/sshrescue
	umask 077
	sshrescue_fetch "$bin_url" "$bin_sha" "$bin" || exit 8
else
	bin=${SSHRESCUE:-$(command -v sshrescue || echo /usr/local/sbin/sshrescue)}
fi
[ -x "$bin" ] || { echo "sshrescue: not installed on this instance (give BIN-URL and BIN-SHA256)" >&2; exit 8; }
mkdir -p "$root/etc/sshrescue"
umask 077
printf '[agent]\nprotect = %s\n[report]\nurl = %s\n' "$(echo "$protect" | tr , ' ')" "$url" \
	>"$root/etc/sshrescue/policy.ini.new" &&
	mv "$root/etc/sshrescue/policy.ini.new" "$root/etc/sshrescue/policy.ini"
out=$(mktemp "${TMPDIR:-/tmp}/sshrescue.XXXXXX") || exit 8
"$bin" -c "$root/etc/sshrescue/policy.ini" repair --root "${root:-/}" --no-reboot >"$out" 2>&1
rc=$?
# Azure gives back the last 4,096 bytes of output: no machine-readable lines (the report file
# has it all) nor attempt lines, each line cut at 300 bytes, the findings left out past 3,000
# bytes; the delivery line and where the report is come last.
LC_ALL=C awk -v max=3000 '
	/^SSHRESCUE-REPORT / || /^sshrescue: delivery: (attempt [0-9]|retrying )/ { next }
	{ if (length($0) > 300) $0 = substr($0, 1, 296) " ..." }
	/^sshrescue: delivery:/ { tail = tail $0 "\n"; next }
	{ line[++n] = $0; size += length($0) + 1 }
	END {
		for (i = 1; i <= n; i++) {
			if (size > max && line[i] ~ /^sshrescue:   /) { cut++; continue }
			if ((used += length(line[i]) + 1) > max) { cut += n - i + 1; break }
			print line[i]
		}
		if (cut) printf "sshrescue: (%d more lines in the full report)\n", cut
		printf "%s", tail
	}' "$out"
rm -f "$out"
echo "sshrescue: exit status $rc; the full report is in $root/var/log/sshrescue/report.json on the instance"
# the repair itself succeeded unless problems remain (4) or errors (8, 16)
[ $((rc & 28)) -eq 0 ]
