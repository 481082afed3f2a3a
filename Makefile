# sshrescue: gives a locked-out Linux instance its SSH access back.
# make | make check | make bench | make fuzz | make demo | make install DESTDIR= PREFIX=
# make deps (apt-get installs what is missing) | make lint | V=1 for verbose
# SANITIZE=1 (ASan+UBSan build in build-san/) | VALGRIND=1 (tests under valgrind)

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=
VERSION := 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
# libcurl is loaded with dlopen when a report is delivered (see deliver.c): its headers are
# needed to build, its library only at run time (libcurl4).
PKGS := blkid mount inih sqlite3 json-c
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
# make VALGRIND=1 check|unit: every program under valgrind (memcheck, leaks), errors exit 99
VALGRIND ?=
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DSSHRESCUE_VERSION='"$(VERSION)"' -Iagent \
	$(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDSAN) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD := build$(if $(filter 1,$(SANITIZE)),-san)
AGENT_SRCS := $(sort $(wildcard agent/*.c agent/parse/*.c agent/policies/*.c))
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

.PHONY: all man check check-noop unit integration bench fuzz demo install uninstall clean deps lint
all: $(BIN) sshrescue $(BUILD)/sshrescue-policy.5

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

install: $(BIN) $(BUILD)/sshrescue-policy.5
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/sshrescue
	install -D -m 0644 man/sshrescue.8 $(DESTDIR)$(MANDIR)/man8/sshrescue.8
	install -D -m 0644 $(BUILD)/sshrescue-policy.5 $(DESTDIR)$(MANDIR)/man5/sshrescue-policy.5
	install -D -m 0644 hooks/policy.ini.example $(DESTDIR)$(PREFIX)/share/sshrescue/policy.ini.example
	install -D -m 0755 hooks/sshrescue-console-collect $(DESTDIR)$(PREFIX)/bin/sshrescue-console-collect

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sshrescue $(DESTDIR)$(MANDIR)/man8/sshrescue.8 \
		$(DESTDIR)$(MANDIR)/man5/sshrescue-policy.5 \
		$(DESTDIR)$(PREFIX)/share/sshrescue/policy.ini.example \
		$(DESTDIR)$(PREFIX)/bin/sshrescue-console-collect

lint:
	clang-tidy $(AGENT_SRCS) -- $(ALL_CFLAGS)
	cppcheck --quiet --enable=warning,portability --inline-suppr -Iagent $(AGENT_SRCS)

clean:
	rm -rf build build-san sshrescue

-include $(AGENT_OBJS:.o=.d) $(UNIT_BINS:=.d)
