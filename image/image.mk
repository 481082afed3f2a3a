# image/image.mk: `make image`, the rescue image (included by the Makefile).
#   make image [IMAGE_DIR=build/image] [IMAGE_POLICY=policy.ini] [ZSTD_LEVEL=19]
# writes IMAGE_DIR/vmlinuz, IMAGE_DIR/initramfs.img and IMAGE_DIR/cmdline.
IMAGE_DIR ?= $(BUILD)/image
IMAGE_POLICY ?=

.PHONY: image
image: $(BIN)
	$(Q)SSHRESCUE=$(CURDIR)/$(BIN) image/build $(IMAGE_DIR) $(IMAGE_POLICY)
