# image/disk.mk: `make disk-image`, the rescue image as a bootable cloud disk (included by the
# Makefile).
#   make disk-image [ARCH=x86_64|aarch64] [DISK_DIR=build/disk] [IMAGE_POLICY=policy.ini]
# writes DISK_DIR/sshrescue-rescue-ARCH.raw, .qcow2, .vhd and -gce.tar.gz (image/disk) from the
# kernel and initramfs that `make image` makes (in DISK_DIR/image-ARCH, with IMAGE_POLICY).
ARCH ?= x86_64
DISK_DIR ?= $(BUILD)/disk

.PHONY: disk-image
disk-image: $(BIN)
	$(Q)SSHRESCUE=$(CURDIR)/$(BIN) image/build $(DISK_DIR)/image-$(ARCH) $(IMAGE_POLICY)
	$(Q)image/disk $(DISK_DIR) $(DISK_DIR)/image-$(ARCH) $(ARCH)
