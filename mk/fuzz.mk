# mk/fuzz.mk — the libFuzzer build of the engine (`make fuzz`).
#
# The library sources are compiled again into build/fuzz/ with coverage
# instrumentation and ASan+UBSan, so that the normal build stays fast and
# uninstrumented; they go through an archive so that only what the target
# uses is linked.  UBSan does not recover: a report must stop the fuzzer
# and leave a crash file, otherwise it would scroll by unnoticed.
# Run it with tests/fuzz/run.sh [seconds].

FUZZ_DIR      := build/fuzz
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
                 -ffp-contract=off -fno-strict-aliasing -Iinclude -Isrc $(FUZZ_SANFLAGS)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/fuzz_engine

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libpylon-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_engine: tests/fuzz/fuzz_engine.c $(FUZZ_DIR)/libpylon-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libpylon-fuzz.a $(LDLIBS)

-include $(FUZZ_LIB_OBJS:.o=.d)
