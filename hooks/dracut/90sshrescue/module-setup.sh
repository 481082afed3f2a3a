#!/bin/bash
# dracut module sshrescue: puts sshrescue (with the libraries it links) and its policy into
# the initramfs, and a pre-mount hook that repairs the real root before it is mounted when
# `sshrescue` is on the kernel command line.
#   cp -r hooks/dracut/90sshrescue /usr/lib/dracut/modules.d/
#   dracut -f --add sshrescue
check() {
	require_binaries sshrescue || return 1
	return 255 # only when asked for (--add sshrescue or add_dracutmodules+=" sshrescue ")
}

depends() {
	echo rootfs-block
}

install() {
	inst_binary "$(command -v sshrescue)" /usr/sbin/sshrescue
	inst_binary lvm 2>/dev/null || true
	[ -e /etc/sshrescue/policy.ini ] && inst_simple /etc/sshrescue/policy.ini
	[ -e /etc/ssl/certs/ca-certificates.crt ] && inst_simple /etc/ssl/certs/ca-certificates.crt
	inst_hook pre-mount 90 "$moddir/sshrescue-pre-mount.sh"
}
