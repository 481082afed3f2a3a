# image/disk.mk: `make disk-image`, the rescue image as a bootable cloud disk (included by the
# Makefile).
#   make disk-image [ARCH=x86_64|aarch64] [DISK_DIR=build/disk] [IMAGE_POLICY=policy.ini]
# writes DISK_DIR/sshrescue-rescue-ARCH.raw, .qcow2, .vhd and -gce.tar.gz (image/disk) from the
# kernel and initramfs that `make image` makes (with IMAGE_POLICY): for x86_64 of this build,
# in DISK_DIR/image-x86_64; for aarch64 cross-built by image/cross in DISK_DIR/aarch64.
#   make check-aarch64: the aarch64 disk booted under qemu-system-aarch64 (slow: not in check)
ARCH ?= x86_64
DISK_DIR ?= $(BUILD)/disk

.PHONY: disk-image check-aarch64
ifeq ($(ARCH),x86_64)
disk-image: $(BIN)
	$(Q)SSHRESCUE=$(CURDIR)/$(BIN) image/build $(DISK_DIR)/image-$(ARCH) $(IMAGE_POLICY)
	$(Q)image/disk $(DISK_DIR) $(DISK_DIR)/image-$(ARCH) $(ARCH)
else
disk-image:
	$(Q)image/cross $(ARCH) $(DISK_DIR)/$(ARCH) $(IMAGE_POLICY)
	$(Q)image/disk $(DISK_DIR) $(DISK_DIR)/$(ARCH)/image $(ARCH)
endif

check-aarch64: $(BIN)
	$(Q)DISKIMAGE_ARCH=aarch64 BUILD=$(BUILD) SSHRESCUE=$(CURDIR)/$(BIN) TESTS=diskimage tests/run
