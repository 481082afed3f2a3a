#!/bin/bash
# dracut module sshrescue: puts sshrescue (with the libraries it links) and its policy into
# the initramfs, and a pre-mount hook that repairs the real root before it is mounted when
# `sshrescue` is on the kernel command line.
#   `make install` and the packages put it in /usr/lib/dracut/modules.d/90sshrescue; then
#   dracut -f --add sshrescue
# `make install` sets sshrescue_sbindir to its SBINDIR
sshrescue_sbindir=/usr/local/sbin
sshrescue_bin() {
	local b
	for b in "$sshrescue_sbindir/sshrescue" "$(command -v sshrescue)" /usr/sbin/sshrescue; do
		[ -x "$b" ] && { echo "$b"; return 0; }
	done
	return 1
}

check() {
	sshrescue_bin >/dev/null || return 1
	return 255 # only when asked for (--add sshrescue or add_dracutmodules+=" sshrescue ")
}

depends() {
	echo rootfs-block
}

install() {
	inst_binary "$(sshrescue_bin)" /usr/sbin/sshrescue
	inst_binary lvm 2>/dev/null || true
	[ -e /etc/sshrescue/policy.ini ] && inst_simple /etc/sshrescue/policy.ini
	[ -e /etc/ssl/certs/ca-certificates.crt ] && inst_simple /etc/ssl/certs/ca-certificates.crt
	inst_hook pre-mount 90 "$moddir/sshrescue-pre-mount.sh"
}
