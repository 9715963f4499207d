# Pylon's build.  Plain Make: the project is C with a handful of generated
# artifacts (wasm test programs, the CPython build), and Make's file-level
# dependencies express exactly that with no extra tool to install.  Each area
# adds its own rules in mk/<area>.mk so the top level stays a map.
#
#   make            build/pylon and build/libpylon.a
#   make SAN=1      the same with ASan+UBSan, in build-san/
#   make test       everything tests/run.sh runs (see README)

# The host compiler is gcc: the interpreter's computed-goto dispatch needs
# each handler to end in its own indirect jump, and gcc 12 keeps them
# separate where clang 19 merges them into one shared jump (measured: bench
# geomean 0.0725 vs 0.0435 of native; see docs/benchmarks.md).  clang-19
# builds everything that targets wasm, and libFuzzer.
CC        := gcc
AR        := ar
WASM_CC   := clang-19
FUZZ_CC   := clang-19
SAN       ?= 0
ifeq ($(SAN),1)
BUILD     ?= build-san
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT       := -O1
else
BUILD     ?= build
SANFLAGS  :=
OPT       := -O2
endif

CFLAGS    := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
             -ffp-contract=off -fno-strict-aliasing -Iinclude -Isrc $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS   := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS    := -lm -lpthread -ldl -lsodium -lcurl $(EXTRA_LDLIBS)

LIB_SRCS  := $(sort $(wildcard src/engine/*.c src/wasi/*.c src/host/*.c src/util/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

.PHONY: all clean test demo
all: $(BUILD)/pylon

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libpylon.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/pylon: $(CLI_OBJS) $(BUILD)/libpylon.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libpylon.a $(LDLIBS)

clean:
	rm -rf build build-san

test:
	./test.sh

demo:
	./demo.sh

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
include $(sort $(wildcard mk/*.mk))
