# edgestream - build, test, install
#
#   make                 build every program (./es-*)
#   make check           install missing packages (as root), build, run tests
#                        (the JSON ones again on each other scanner path)
#   make check-sanitize  the same tests against an ASan+UBSan build
#   make check-valgrind  the same tests with every program under valgrind
#   make check-numbers   number parsing and formatting on 20M hard cases each
#   make demo            run the screening pipeline on a generated morning,
#                        then replay the minute around an alert (es-replay)
#   make bench           time es-* against jq, Miller and DuckDB
#   make fuzz            run each libFuzzer target FUZZ_SECONDS (tests/fuzz/)
#   make cross           ARCH=arm64|armhf: build for an ARM gateway (build/ARCH)
#   make check-cross     ARCH=arm64|armhf: the tests on it, under qemu-user
#   make check-cross-smoke  ARCH=arm64|armhf: a part of them (CI's)
#   make deb             [ARCH=arm64|armhf]: build/edgestream_VERSION_ARCH.deb
#                        and build/edgestream-infer_VERSION_ARCH.deb
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
VERSION = 0.1.0

CC ?= cc
# -O3 and, with gcc, link-time optimization: a record's path runs through
# many small functions in other files (the reader, number parsing, the
# group table, the aggregates) that only the link can inline. Against -O2:
# es-window 14-18%, es-filter 8-12%, es-cat, es-join, es-map 7-14% less
# time (bench/README.md, "Session 16"). The objects keep their plain code
# too (fat), so that any ar indexes them and the unit drivers link without
# the whole-program step (LINK_UNIT).
LTO = $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-flto=auto -ffat-lto-objects)
CFLAGS ?= -O3 -g $(LTO)
# Flags the code needs whatever CFLAGS the user gives. _FILE_OFFSET_BITS:
# 64-bit off_t, ino_t and readdir on 32-bit ARM (armhf) too, where without
# it readdir fails (EOVERFLOW) on a directory whose entries have 64-bit
# inode numbers or offsets, and a file cannot pass 2 GiB.
ES_CFLAGS = -std=gnu11 -D_FILE_OFFSET_BITS=64 -Wall -Wextra -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-iquote lib -DES_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS = -lcsv -lm

# O: where objects and programs go (the sanitizer build uses its own).
O ?= .
PROGS = es-cat es-filter es-window es-join es-map es-dedup es-deadband es-detect \
	es-mqtt-pub es-mqtt-sub es-heartbeat es-ctl es-kafka-pub \
	es-modbus \
	es-archive \
	es-replay \
	es-http-pub \
	es-infer
LIB_SRCS = $(wildcard lib/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/obj/%.o) $(O)/obj/gen/number_pow5.o
BINS = $(PROGS:%=$(O)/%)
# The example's data generator (not installed).
EXAMPLES = $(O)/examples/screening/gen-screening
# Unit drivers: small mains over lib/ that tests/unit.bats runs.
UNITS = $(patsubst tests/unit/%.c,$(O)/unit/%,$(wildcard tests/unit/*.c))
# Fuzz targets (tests/fuzz/TARGET.c): as unit drivers over files with
# tests/fuzz/driver.c (fuzz-TARGET, for make check), and with libFuzzer.
# The tflite target links Arm NN (TFLITE, below): without it, not built.
TFLITE ?= $(if $(wildcard /usr/lib/$(shell $(CC) -dumpmachine)/libarmnnTfLiteParser.so),1,0)
FUZZ_TARGETS = $(filter-out driver $(if $(filter 1,$(TFLITE)),,tflite),$(basename \
	$(notdir $(wildcard tests/fuzz/*.c))))
UNITS += $(FUZZ_TARGETS:%=$(O)/unit/fuzz-%)

# Debian packages: to build, and to run the tests.
BUILD_PKGS = gcc make libjansson-dev libcsv-dev libmosquitto-dev librdkafka-dev \
	libmodbus-dev \
	libsqlite3-dev \
	libcurl4-openssl-dev zlib1g-dev \
	g++ libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22
TEST_PKGS = bats bats-assert bats-support jq miller python3 groff-base time \
	mosquitto mosquitto-clients openssl kcat \
	python3-pymodbus socat \
	strace \
	dpkg-dev debhelper lintian file systemd prometheus prometheus-node-exporter \
	influxdb curl \
	python3-xgboost python3-numpy python3-flatbuffers

all: $(BINS) $(EXAMPLES)
units: $(UNITS)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ES_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# lib/number's 128-bit powers of five, written exactly by tools/gen-pow5.c,
# which runs on the build machine (BUILD_CC, also when cross-building).
BUILD_CC ?= cc
$(O)/obj/gen/gen-pow5: tools/gen-pow5.c
	@mkdir -p $(dir $@)
	$(BUILD_CC) -O2 -Wall -Wextra -o $@ $<
$(O)/obj/gen/number_pow5.c: $(O)/obj/gen/gen-pow5
	$< > $@.tmp && mv $@.tmp $@
$(O)/obj/gen/number_pow5.o: $(O)/obj/gen/number_pow5.c
	$(CC) $(ES_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(O)/obj/libedgestream.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(O)/es-%: $(O)/obj/cmd/es-%.o $(O)/obj/libedgestream.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Only the MQTT programs link libmosquitto (lib/mqtt.o, mqttprog.o and
# pubmqtt.o are pulled from the archive by them alone).
$(O)/es-mqtt-%: LDLIBS += -lmosquitto
$(O)/es-heartbeat $(O)/es-ctl: LDLIBS += -lmosquitto
# Only the Kafka publisher and its test cluster need librdkafka (pubkafka.o
# is pulled by es-kafka-pub alone).
$(O)/es-kafka-pub $(O)/unit/kafka-mock: LDLIBS += -lrdkafka
# Only es-modbus links libmodbus and threads (lib/modbus_dev.o and
# modbus_poll.o are pulled by it alone).
$(O)/es-modbus: LDLIBS += -lmodbus -lpthread
# Only es-archive and es-replay link libsqlite3 (lib/archive*.o are pulled
# from the archive by them alone); es-replay reads its requests with
# jansson (lib/replay.o) and answers over MQTT.
$(O)/es-archive: LDLIBS += -lsqlite3
$(O)/es-replay: LDLIBS += -lsqlite3 -ljansson -lmosquitto
# Only the HTTP publisher needs libcurl and zlib (--gzip): pubhttp.o is
# pulled by es-http-pub alone.
$(O)/es-http-pub: LDLIBS += -lcurl -lz
# Only es-infer loads models: lib/model.o and xgb.o (jansson, parsed once
# per load) are pulled by it alone.
$(O)/es-infer: LDLIBS += -ljansson
# and, when Arm NN's TfLiteParser is installed for the target, its
# TensorFlow Lite backend (lib/tflite.cc, C++: compiled by $(CC) as C++,
# linked into es-infer alone; model.c refers to it weakly). TFLITE=0
# leaves it out (TFLITE is set above, by the fuzz targets).
ifeq ($(TFLITE),1)
$(O)/es-infer: $(O)/obj/lib/tflite.o
$(O)/es-infer: LDLIBS += -larmnnTfLiteParser -larmnn -lstdc++
endif
# The fuzz target of the TFLite loader links the backend as es-infer does.
$(O)/unit/fuzz-tflite $(O)/fuzz-tflite: $(O)/obj/lib/tflite.o
$(O)/unit/fuzz-tflite $(O)/fuzz-tflite: FUZZ_LDLIBS += -larmnnTfLiteParser -larmnn -lstdc++
# (clang links UBSan's C++ part, for tflite.o's vptr checks, only if asked)
$(O)/fuzz-tflite: FUZZ_LDLIBS += -fsanitize-link-c++-runtime
$(O)/obj/lib/tflite.o: lib/tflite.cc
	@mkdir -p $(dir $@)
	$(CC) -std=c++14 -Wall -Wextra -iquote lib -MMD -MP $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(O)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ES_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The drivers link the objects' plain code: the whole-program step would
# add half a minute to each build for code that only the tests run.
LINK_UNIT = $(CC) $(CFLAGS) -fno-lto $(LDFLAGS)
$(O)/unit/%: $(O)/obj/tests/unit/%.o $(O)/obj/libedgestream.a
	@mkdir -p $(dir $@)
	$(LINK_UNIT) -o $@ $^ $(LDLIBS)

# jansson: the json target checks the scanner against it.
FUZZ_LDLIBS = $(LDLIBS) -ljansson
$(O)/unit/fuzz-%: $(O)/obj/tests/fuzz/%.o $(O)/obj/tests/fuzz/driver.o \
		$(O)/obj/libedgestream.a
	@mkdir -p $(dir $@)
	$(LINK_UNIT) -o $@ $^ $(FUZZ_LDLIBS)

# With libFuzzer (clang only): everything is compiled with coverage
# instrumentation (FUZZ_CFLAGS), the target is linked with libFuzzer's main.
$(O)/fuzz-%: $(O)/obj/tests/fuzz/%.o $(O)/obj/libedgestream.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(FUZZ_LDLIBS)

-include $(LIB_OBJS:.o=.d) $(PROGS:%=$(O)/obj/cmd/%.d) $(O)/obj/lib/tflite.d \
	$(patsubst %,$(O)/obj/tests/fuzz/%.d,$(FUZZ_TARGETS) driver) \
	$(patsubst tests/unit/%.c,$(O)/obj/tests/unit/%.d,$(wildcard tests/unit/*.c))

# Installs what is missing when root; otherwise says what to install.
deps:
	@PKGS="$(BUILD_PKGS) $(TEST_PKGS) $(EXTRA_PKGS)" sh tests/deps.sh

# The build after deps, in a make of its own: what it finds installed
# (TFLITE: Arm NN) is looked at after deps installed it.
check: deps
	@$(MAKE) --no-print-directory all units
	@ES_BIN=$(abspath $(O)) ES_SIMD_PATHS=1 sh tests/run

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

# lib/number.c against strtod and printf on many more hard cases than
# tests/number.bats runs (NUMBERS=N each; a few minutes at the default).
NUMBERS ?= 20000000
check-numbers: $(O)/unit/number-test
	$(O)/unit/number-test format $(NUMBERS)
	$(O)/unit/number-test parse $(NUMBERS)
	$(O)/unit/number-test grammar $(NUMBERS)

# The entrance-screening pipeline on a generated morning, with its own
# broker (BROKER=host:port for another), ending with es-replay's answer for
# the raw readings around the first alert; the tour of the programs on the
# bundled sample data is examples/tour.sh.
demo: deps all
	@ES_BIN=$(abspath $(O)) bash examples/screening/demo.sh

# make fuzz FUZZ_SECONDS=N: builds every target with clang into build/fuzz
# (the normal build is untouched) and runs each for N seconds, one after
# the other, from seeds made by tests/fuzz/run; exits 1 on a crash.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
fuzz:
	@EXTRA_PKGS="clang libclang-rt-14-dev" $(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory O=build/fuzz CC=clang \
		CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_TARGETS:%=build/fuzz/fuzz-%)
	@sh tests/fuzz/run build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Cross-builds with Debian's cross toolchains and multiarch libraries.
ARCH ?= arm64
TRIPLE_arm64 = aarch64-linux-gnu
TRIPLE_armhf = arm-linux-gnueabihf
QEMU_arm64 = qemu-aarch64
QEMU_armhf = qemu-arm
TRIPLE = $(TRIPLE_$(ARCH))
cross:
	@sh tests/cross-deps.sh $(ARCH)
	@$(MAKE) --no-print-directory O=build/$(ARCH) CC=$(TRIPLE)-gcc \
		AR=$(TRIPLE)-ar all units

# TESTS="a.bats b.bats" runs a part (tests/run takes it as it is), by
# default every bats file. Under emulation (ES_CROSS) the files of the
# programs that start threads skip themselves, saying why: see
# threads_unemulated in tests/test_helper.bash.
CROSS_TESTS = $(or $(TESTS),$(notdir $(wildcard tests/*.bats)))
check-cross: cross deps
	@rm -rf build/$(ARCH)-qemu
	@sh tests/qemu-bin.sh $(abspath build/$(ARCH)) $(abspath build/$(ARCH)-qemu) \
		$(QEMU_$(ARCH)) /usr/$(TRIPLE)
	@ES_BIN=$(abspath build/$(ARCH)-qemu) ES_CROSS=$(ARCH) TESTS="$(CROSS_TESTS)" sh tests/run

# CI's part of check-cross: every program and unit driver built, then the
# bats files that run every program once (accounting), the time arithmetic
# (32-bit time_t and long on armhf), the library's unit drivers over the
# fuzz seeds, the stats files and sd_notify. The rest is check-cross's.
CROSS_SMOKE = accounting.bats time.bats fuzz.bats stats-file.bats notify.bats
check-cross-smoke:
	@$(MAKE) --no-print-directory check-cross TESTS="$(CROSS_SMOKE)"

# make deb: the Debian packages of this architecture, or of ARCH=arm64|armhf
# (cross-built), into DEB_OUT (packaging/deb.sh says how): edgestream, and
# edgestream-infer (es-infer alone, with Arm NN).
DEB_OUT ?= build
DEB_PKGS = dpkg-dev debhelper lintian
DEB_ARCH = $(if $(filter file,$(origin ARCH)),native,$(ARCH))
deb:
	@EXTRA_PKGS="$(DEB_PKGS)" $(MAKE) --no-print-directory deps
	@if [ $(DEB_ARCH) != native ]; then sh tests/cross-deps.sh $(DEB_ARCH); fi
	@sh packaging/deb.sh $(DEB_ARCH) $(abspath $(DEB_OUT))

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

.PHONY: all units deps check check-sanitize check-valgrind check-numbers demo \
	bench fuzz \
	cross check-cross check-cross-smoke deb \
	install clean
.SECONDARY:
