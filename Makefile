# edgestream - build, test, install
#
#   make                 build every program (./es-*)
#   make check           install missing packages (as root), build, run tests
#   make check-sanitize  the same tests against an ASan+UBSan build
#   make check-valgrind  the same tests with every program under valgrind
#   make demo            run the example pipeline on bundled data
#   make bench           time es-* against jq, Miller and DuckDB
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
VERSION = 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
# Flags the code needs whatever CFLAGS the user gives.
ES_CFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-iquote lib -DES_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS = -lcsv -lm

# O: where objects and programs go (the sanitizer build uses its own).
O ?= .
PROGS = es-cat es-filter es-window es-join es-map es-dedup es-deadband es-detect
LIB_SRCS = $(wildcard lib/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/obj/%.o)
BINS = $(PROGS:%=$(O)/%)
# The example's data generator (not installed).
EXAMPLES = $(O)/examples/screening/gen-screening
# Unit drivers: small mains over lib/ that tests/unit.bats runs.
UNITS = $(patsubst tests/unit/%.c,$(O)/unit/%,$(wildcard tests/unit/*.c))

# Debian packages: to build, and to run the tests.
BUILD_PKGS = gcc make libjansson-dev libcsv-dev
TEST_PKGS = bats bats-assert bats-support jq miller python3 groff-base

all: $(BINS) $(EXAMPLES)
units: $(UNITS)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ES_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(O)/obj/libedgestream.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(O)/es-%: $(O)/obj/cmd/es-%.o $(O)/obj/libedgestream.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ES_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(O)/unit/%: $(O)/obj/tests/unit/%.o $(O)/obj/libedgestream.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(LIB_OBJS:.o=.d) $(PROGS:%=$(O)/obj/cmd/%.d)

# Installs what is missing when root; otherwise says what to install.
deps:
	@PKGS="$(BUILD_PKGS) $(TEST_PKGS) $(EXTRA_PKGS)" sh tests/deps.sh

check: deps all $(UNITS)
	@ES_BIN=$(abspath $(O)) sh tests/run

SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
check-sanitize: deps
	@$(MAKE) --no-print-directory O=build/sanitize CFLAGS="$(SAN_FLAGS)" all units
	@ES_BIN=$(abspath build/sanitize) ES_SANITIZE=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run

# The tests against the plain build run under valgrind (timing tests skip).
check-valgrind: deps all $(UNITS)
	@EXTRA_PKGS=valgrind $(MAKE) --no-print-directory deps
	@sh tests/valgrind-bin.sh $(abspath $(O)) $(abspath build/valgrind)
	@ES_BIN=$(abspath build/valgrind) ES_UNIT=$(abspath $(O))/unit ES_VALGRIND=1 sh tests/run

demo: deps all
	@sh examples/demo.sh

bench: all
	@EXTRA_PKGS="miller hyperfine" $(MAKE) --no-print-directory deps
	@ES_BIN=$(abspath $(O)) bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7

clean:
	rm -rf obj build unit $(PROGS) $(EXAMPLES)

.PHONY: all units deps check check-sanitize check-valgrind demo bench install clean
.SECONDARY:
