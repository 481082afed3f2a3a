#!/bin/sh
# dracut pre-mount hook: with `sshrescue` on the kernel command line, repairs the real root
# before it is mounted (sshrescue mounts it and the /var its fstab names, repairs, releases).
# Command line: sshrescue [sshrescue.protect=CIDR,...] [sshrescue.url=URL]
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh

if getargbool 0 sshrescue; then
	set -- repair --no-reboot
	[ -e /etc/sshrescue/policy.ini ] && set -- -c /etc/sshrescue/policy.ini "$@"
	for p in $(getarg sshrescue.protect= | tr , ' '); do set -- "$@" --protect "$p"; done
	url=$(getarg sshrescue.url=)
	[ -n "$url" ] && set -- "$@" --report-url "$url"
	# $root is "block:/dev/..." once dracut has resolved root=
	dev=${root#block:}
	info "sshrescue: repairing $dev before it is mounted"
	/usr/sbin/sshrescue "$@" --device "$dev"
	info "sshrescue: exited $?"
fi
