# wasi-tests.mk — builds the WASI test programs (tests/wasi/*.c) to
# wasm32-wasi with clang-19 and Debian's wasi-libc, for tests/groups/20-wasi.sh.
#
# The sysroot is a build-made directory of symlinks into the wasi-libc
# package: pointing --sysroot at /usr would let clang pick up glibc headers.
# clang's WASI driver looks for crt1.o and libc.a in <sysroot>/lib/wasm32-wasi.
# Compile and link are separate steps so that no -O on the link line makes
# clang run wasm-opt (binaryen) when it happens to be installed.

WASI_CC       := clang-19
WASI_SYSROOT  := $(BUILD)/wasi-sysroot
WASI_CFLAGS   := --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -O2 -Wall -Wextra \
                 -Wno-unused-parameter -Wno-unused-function -Wno-unused-result
WASI_LDFLAGS  := --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -Wl,--strip-debug
WASI_TEST_SRCS  := $(sort $(wildcard tests/wasi/*.c))
WASI_TEST_WASMS := $(WASI_TEST_SRCS:tests/wasi/%.c=$(BUILD)/wasi-tests/%.wasm)

.PHONY: wasi-tests
wasi-tests: $(WASI_TEST_WASMS)

$(WASI_SYSROOT)/.made:
	@mkdir -p $(WASI_SYSROOT)/lib
	ln -sfn /usr/include/wasm32-wasi $(WASI_SYSROOT)/include
	ln -sfn /usr/lib/wasm32-wasi $(WASI_SYSROOT)/lib/wasm32-wasi
	@touch $@

$(BUILD)/wasi-tests/%.o: tests/wasi/%.c tests/wasi/wt.h $(WASI_SYSROOT)/.made
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -c $< -o $@

$(BUILD)/wasi-tests/%.wasm: $(BUILD)/wasi-tests/%.o
	$(WASI_CC) $(WASI_LDFLAGS) $< -o $@
