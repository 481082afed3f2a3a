# sshrescue: gives a locked-out Linux instance its SSH access back.
# make | make check | make bench | make fuzz | make demo | make install DESTDIR= PREFIX=
# make deps (apt-get installs what is missing) | make lint | V=1 for verbose
# SANITIZE=1 (ASan+UBSan build in build-san/) | VALGRIND=1 (tests under valgrind)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
# systemd, initramfs-tools and dracut read only their own directories, whatever PREFIX is:
# the unit goes where systemd looks for the administrator's units (/etc/systemd/system) unless
# the prefix is /usr (packages: /lib/systemd/system on Debian 12, /usr/lib/systemd/system on
# RPM systems; set it); initramfs-tools reads /usr/share/initramfs-tools and /etc/initramfs-tools.
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(SYSCONFDIR)/systemd/system)
INITRAMFSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/share/initramfs-tools,$(SYSCONFDIR)/initramfs-tools)
DRACUTDIR ?= /usr/lib/dracut/modules.d
DESTDIR ?=
VERSION := 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
# libcurl is loaded with dlopen when a report is delivered (see deliver.c): its headers are
# needed to build, its library only at run time (libcurl4).
PKGS := blkid mount inih sqlite3 json-c zlib expat
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -fstack-clash-protection \
	-fcf-protection
ifeq ($(SANITIZE),1)
HARDEN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
CFLAGS := -O1 -g
# Any report fails the test that caused it: exit status 99, which no test expects.
export ASAN_OPTIONS ?= detect_leaks=1:exitcode=99:abort_on_error=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1:exitcode=99
endif
# STATIC=1 (image/static, make static): a fully static binary against musl and the libraries
# image/static built (STATIC_CFLAGS, STATIC_LDFLAGS name them); libcurl is linked in, not loaded
ifeq ($(STATIC),1)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libcurl)
PKG_LIBS = $(shell pkg-config --static --libs $(PKGS) libcurl)
HARDEN := -fstack-protector-strong -fstack-clash-protection -DSSHRESCUE_STATIC \
	-include agent/compat.h $(STATIC_CFLAGS)
# -Os: GCC's uninitialized-use guesses at this level name variables every path sets
CFLAGS := -Os -g0 -ffunction-sections -fdata-sections -Wno-maybe-uninitialized
ALL_LDFLAGS_STATIC := -static -Wl,--gc-sections -Wl,--build-id=none $(STATIC_LDFLAGS)
endif
# make VALGRIND=1 check|unit: every program under valgrind (memcheck, leaks), errors exit 99
VALGRIND ?=
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DSSHRESCUE_VERSION='"$(VERSION)"' -Iagent \
	$(WARN) $(HARDEN) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := $(if $(ALL_LDFLAGS_STATIC),$(ALL_LDFLAGS_STATIC),-pie -Wl,-z,relro,-z,now $(LDSAN)) \
	$(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD := build$(if $(filter 1,$(SANITIZE)),-san)
AGENT_SRCS := $(sort $(wildcard agent/*.c agent/parse/*.c agent/policies/*.c agent/target/*.c))
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/agent/main.o,$(AGENT_OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
BIN := $(BUILD)/sshrescue

.DEFAULT_GOAL := all
include image/image.mk
include image/disk.mk

.PHONY: all man check check-noop unit integration bench fuzz demo install install-list uninstall deb rpm static check-static clean deps lint FORCE
all: $(BIN) sshrescue $(BUILD)/sshrescue-policy.5 $(BUILD)/sshrescue-repair.service

sshrescue: $(BIN)
	$(Q)ln -sf $(BIN) sshrescue

# Linked under a temporary name and renamed, so a test running the binary never sees it half
# written or missing.
$(BIN): $(AGENT_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@.tmp $^ $(ALL_LDFLAGS) $(PKG_LIBS)
	$(Q)mv -f $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS)

# The policies' decision tables (test_policy_NAME.c) share a harness: files in, findings and
# edits out (tests/unit/policy_harness.h).
POLICY_TEST_BINS := $(filter $(BUILD)/tests/test_policy_%,$(UNIT_BINS))
$(POLICY_TEST_BINS): $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/policy_harness.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/tests/policy_harness.o $(LIB_OBJS) \
		$(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/policy_harness.o: tests/unit/policy_harness.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(PKG_LIBS)

# The whole suite: unit tests (cmocka), then integration tests against the real programs.
# Ends with one summary line "N passed, N failed".
check: $(BIN) sshrescue $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) VALGRIND=$(VALGRIND) SSHRESCUE=$(CURDIR)/$(BIN) tests/run $(UNIT_BINS)

# The integration suite against a program that does nothing in place of sshrescue: fails when
# any case other than a marked precondition (t_precondition) still passes.
check-noop:
	$(Q)NOOP=1 tests/run

unit: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) VALGRIND=$(VALGRIND) SSHRESCUE=$(CURDIR)/$(BIN) TESTS_ONLY_UNIT=1 \
		tests/run $(UNIT_BINS)

bench: $(BIN) $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) SSHRESCUE=$(CURDIR)/$(BIN) tests/bench/run

# The firewall policy against the real loaders: N random rule files per format (default 200).
.PHONY: difftest
difftest: $(BIN)
	$(Q)SSHRESCUE=$(CURDIR)/$(BIN) tests/difftest/run $(or $(N),200) $(or $(SEED),1)

fuzz:
	$(Q)tests/fuzz/run $(FUZZ_SECONDS)

demo: $(BIN)
	$(Q)SSHRESCUE=$(CURDIR)/$(BIN) tests/demo

deps:
	$(Q)tests/deps $(DEPS_SET)

# The key list of sshrescue-policy(5) comes from the table that drives the parser.
$(BUILD)/sshrescue-policy.5: man/sshrescue-policy.5.in man/policy-keys.awk $(BIN)
	$(Q)$(BIN) --help-policy | awk -f man/policy-keys.awk >$@.keys
	$(Q)sed -e '/^@KEYS@$$/{r $@.keys' -e 'd}' man/sshrescue-policy.5.in >$@
	$(Q)rm -f $@.keys

man: $(BUILD)/sshrescue-policy.5

# The unit names the installed sshrescue-boot: made from its template for this SBINDIR.
$(BUILD)/sshrescue-repair.service: hooks/sshrescue-repair.service.in FORCE
	@mkdir -p $(dir $@)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $< >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

FORCE:

# Everything the Debian and RPM packages ship (debian/rules and sshrescue.spec call this).
# The initramfs hook and the dracut module learn SBINDIR, so they find the binary installed here.
INSTALL_FILES = $(SBINDIR)/sshrescue $(SBINDIR)/sshrescue-boot $(BINDIR)/sshrescue-console-collect \
	$(MANDIR)/man8/sshrescue.8 $(MANDIR)/man5/sshrescue-policy.5 \
	$(DATADIR)/sshrescue/policy.ini.example $(SYSTEMDUNITDIR)/sshrescue-repair.service \
	$(INITRAMFSDIR)/hooks/sshrescue $(INITRAMFSDIR)/scripts/local-premount/sshrescue \
	$(DRACUTDIR)/90sshrescue/module-setup.sh $(DRACUTDIR)/90sshrescue/sshrescue-pre-mount.sh
SET_SBINDIR = sed 's|^sshrescue_sbindir=.*|sshrescue_sbindir=$(SBINDIR)|'

install: $(BIN) $(BUILD)/sshrescue-policy.5 $(BUILD)/sshrescue-repair.service
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/sshrescue
	install -D -m 0755 hooks/sshrescue-boot $(DESTDIR)$(SBINDIR)/sshrescue-boot
	install -D -m 0755 hooks/sshrescue-console-collect $(DESTDIR)$(BINDIR)/sshrescue-console-collect
	install -D -m 0644 man/sshrescue.8 $(DESTDIR)$(MANDIR)/man8/sshrescue.8
	install -D -m 0644 $(BUILD)/sshrescue-policy.5 $(DESTDIR)$(MANDIR)/man5/sshrescue-policy.5
	install -D -m 0644 hooks/policy.ini.example $(DESTDIR)$(DATADIR)/sshrescue/policy.ini.example
	install -D -m 0644 $(BUILD)/sshrescue-repair.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/sshrescue-repair.service
	install -d $(DESTDIR)$(INITRAMFSDIR)/hooks $(DESTDIR)$(INITRAMFSDIR)/scripts/local-premount \
		$(DESTDIR)$(DRACUTDIR)/90sshrescue
	$(SET_SBINDIR) hooks/initramfs-tools/hooks/sshrescue >$(DESTDIR)$(INITRAMFSDIR)/hooks/sshrescue
	chmod 0755 $(DESTDIR)$(INITRAMFSDIR)/hooks/sshrescue
	install -m 0755 hooks/initramfs-tools/scripts/local-premount/sshrescue \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/local-premount/sshrescue
	$(SET_SBINDIR) hooks/dracut/90sshrescue/module-setup.sh \
		>$(DESTDIR)$(DRACUTDIR)/90sshrescue/module-setup.sh
	chmod 0755 $(DESTDIR)$(DRACUTDIR)/90sshrescue/module-setup.sh
	install -m 0755 hooks/dracut/90sshrescue/sshrescue-pre-mount.sh \
		$(DESTDIR)$(DRACUTDIR)/90sshrescue/sshrescue-pre-mount.sh

# Prints what `make install` installs, one absolute path a line (tests compare against it).
install-list:
	@printf '%s\n' $(INSTALL_FILES)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	-rmdir $(DESTDIR)$(DRACUTDIR)/90sshrescue $(DESTDIR)$(DATADIR)/sshrescue

# The source as packaged: the files git knows (committed or not, ignored ones left out), else
# the tree without its build directories. Packages build from a copy, so this tree stays clean.
SRC_FILES = $(wildcard $(shell git ls-files -co --exclude-standard 2>/dev/null || \
	find . -path ./build -prune -o -path ./build-san -prune -o -path ./.git -prune \
	-o ! -type d ! -name sshrescue -print))
PKG_TREE = sshrescue-$(VERSION)

build/src/$(PKG_TREE).tar.gz: $(SRC_FILES)
	@mkdir -p $(dir $@)
	$(Q)tar --create --gzip --file=$@.tmp --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || echo 0)} \
		--transform='s|^|$(PKG_TREE)/|' $(SRC_FILES)
	$(Q)mv -f $@.tmp $@

# build/deb/sshrescue_VERSION_ARCH.deb (dpkg-buildpackage: debhelper, debian/)
deb: build/src/$(PKG_TREE).tar.gz
	$(Q)rm -rf build/deb && mkdir -p build/deb
	$(Q)tar -xzf $< -C build/deb
	$(Q)cd build/deb/$(PKG_TREE) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 30 ../build.log; exit 1; }
	$(Q)rm -rf build/deb/$(PKG_TREE)
	@ls build/deb/*.deb

# build/rpm/sshrescue-VERSION-1.ARCH.rpm (rpmbuild from sshrescue.spec; on Debian the
# BuildRequires name RPM packages that no rpm database has: --nodeps)
rpm: build/src/$(PKG_TREE).tar.gz
	$(Q)rm -rf build/rpm && mkdir -p build/rpm/top/SOURCES
	$(Q)cp $< build/rpm/top/SOURCES/
	$(Q)rpmbuild -bb --nodeps --define '_topdir $(CURDIR)/build/rpm/top' \
		--define '_rpmdir $(CURDIR)/build/rpm' --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
		sshrescue.spec >build/rpm/build.log 2>&1 || { tail -n 30 build/rpm/build.log; exit 1; }
	$(Q)rm -rf build/rpm/top
	@ls build/rpm/*.rpm

# build/static/sshrescue-x86_64 and -aarch64 (+ .sha256): fully static, HTTPS built in; the
# third-party libraries are built from Debian's sources once, under build/static/ARCH/
static:
	$(Q)tests/deps static >/dev/null
	$(Q)nice image/static x86_64 aarch64

# the static binaries in a Debian 11 root, under qemu-aarch64, and their reproducibility
check-static: static
	$(Q)BUILD=$(BUILD) SSHRESCUE=$(CURDIR)/$(BIN) TESTS="static" tests/run

lint:
	clang-tidy $(AGENT_SRCS) -- $(ALL_CFLAGS)
	cppcheck --quiet --enable=warning,portability --inline-suppr -Iagent $(AGENT_SRCS)

clean:
	rm -rf build build-san sshrescue

-include $(AGENT_OBJS:.o=.d) $(UNIT_BINS:=.d) $(BUILD)/tests/policy_harness.d
