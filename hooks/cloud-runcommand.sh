#!/bin/sh
# hooks/cloud-runcommand.sh: the shell part shared by the clouds' run-command engines (AWS SSM
# document aws-ssm-sshrescue.json, Azure run-command, GCE startup-script): installs the policy
# and runs `sshrescue repair --root /` on a running, locked-out instance.
#   cloud-runcommand.sh PROTECT REPORT-URL
# PROTECT: networks (comma or space separated; "" = every source); REPORT-URL: "" = none.
# The values may also come as the environment variables protect and reportUrl (Azure's
# managed run-command passes parameters so).
#   SSHRESCUE_ROOT  the root (default /); SSHRESCUE  the binary (default: sshrescue on PATH)
protect=${1-${protect:-}}
url=${2-${reportUrl:-}}
root=${SSHRESCUE_ROOT:-/}
root=${root%/}
case "$protect$url" in
*[!A-Za-z0-9.:/,\ _%?=\&+~@-]*)
	echo "sshrescue: refusing parameters with shell or ini metacharacters" >&2
	exit 16
	;;
esac
bin=${SSHRESCUE:-$(command -v sshrescue || echo /usr/local/sbin/sshrescue)}
[ -x "$bin" ] || { echo "sshrescue: not installed on this instance" >&2; exit 8; }
mkdir -p "$root/etc/sshrescue"
umask 077
printf '[agent]\nprotect = %s\n[report]\nurl = %s\n' "$(echo "$protect" | tr , ' ')" "$url" \
	>"$root/etc/sshrescue/policy.ini.new" &&
	mv "$root/etc/sshrescue/policy.ini.new" "$root/etc/sshrescue/policy.ini"
"$bin" -c "$root/etc/sshrescue/policy.ini" repair --root "${root:-/}" --no-reboot
rc=$?
echo "sshrescue: exit status $rc"
# the repair itself succeeded unless problems remain (4) or errors (8, 16)
[ $((rc & 28)) -eq 0 ]
