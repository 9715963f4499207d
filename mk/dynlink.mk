# mk/dynlink.mk — the compose:dynlink side of Pylon: cap providers, the
# hostile test fixtures, the C test guest, the test tools and the bench.
# The host code itself (src/host/*.c) is part of libpylon.a like any other.
#
#   make dynlink        everything below
#   make caps           build/caps/crc32c/{table,slice8,wide16}.wasm
#   make dynlink-bench  build and run the boundary benchmark (docs/dynlink.md)
#
# Providers are bare wasm32 reactors (-nostdlib, --no-entry): they need no
# WASI, their cabi_realloc is the guest SDK's bump arena, and they use
# the MVP plus sign-ext, mutable-globals and bulk-memory (memory.copy for
# the copies), which the engine and wasm2c both accept.  Compile and link
# are separate steps so no -O reaches the link line (no wasm-opt run).

DL_DIR        := $(BUILD)/dynlink
DL_WASM_LD    := wasm-ld-19
DL_WASMFLAGS  := --target=wasm32 -mcpu=mvp -msign-ext -mmutable-globals -mbulk-memory \
                 -nostdlib -ffreestanding -O2 -Wall -Wextra -Wno-unused-parameter -Iguest/sdk
DL_LDFLAGS    := --no-entry --strip-debug --gc-sections
SDK_HDRS      := guest/sdk/dynlink.h
# wasi-tests.mk (read after this file) makes the wasm32-wasi sysroot; its
# variables are not defined yet where prerequisites are expanded.
DL_WASI_MADE  := $(BUILD)/wasi-sysroot/.made

CRC32C_PROVIDERS := $(BUILD)/caps/crc32c/table.wasm $(BUILD)/caps/crc32c/slice8.wasm \
                    $(BUILD)/caps/crc32c/wide16.wasm
DL_FIXTURES   := $(patsubst tests/dynlink/%.c,$(DL_DIR)/fixtures/%.wasm,\
                   $(filter-out tests/dynlink/guest.c tests/dynlink/dlrun.c tests/dynlink/unit.c,\
                   $(wildcard tests/dynlink/*.c)))

.PHONY: dynlink dynlink-tests caps dynlink-bench
dynlink: dynlink-tests $(DL_DIR)/dynlink_bench $(DL_DIR)/bench_guest.wasm
# What tests/groups/40-dynlink.sh needs.
dynlink-tests: caps $(DL_FIXTURES) $(DL_DIR)/guest.wasm $(DL_DIR)/dlrun $(DL_DIR)/unit
caps: $(CRC32C_PROVIDERS)

# The SDK, once per flavour.
$(DL_DIR)/sdk-provider.o: guest/sdk/dynlink.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_PROVIDER -c $< -o $@
$(DL_DIR)/sdk-bump.o: guest/sdk/dynlink.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_BUMP_ALLOC -c $< -o $@

# crc32c providers.
$(BUILD)/caps/crc32c/%.o: caps/crc32c/providers/%.c caps/crc32c/providers/glue.h $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_PROVIDER -Icaps/crc32c/providers -c $< -o $@
$(BUILD)/caps/crc32c/%.wasm: $(BUILD)/caps/crc32c/%.o $(DL_DIR)/sdk-provider.o
	$(DL_WASM_LD) $(DL_LDFLAGS) -o $@ $^

# Fixtures: hostile writes its own endpoint (bump SDK only); the others are
# SDK providers; bigmem starts with more memory than its plan allows.
$(DL_DIR)/fixtures/hostile.o: tests/dynlink/hostile.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_BUMP_ALLOC -c $< -o $@
$(DL_DIR)/fixtures/hostile.wasm: $(DL_DIR)/fixtures/hostile.o $(DL_DIR)/sdk-bump.o
	$(DL_WASM_LD) $(DL_LDFLAGS) -z stack-size=65536 -o $@ $^
$(DL_DIR)/fixtures/%.o: tests/dynlink/%.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_PROVIDER -c $< -o $@
$(DL_DIR)/fixtures/badimport.wasm: $(DL_DIR)/fixtures/badimport.o $(DL_DIR)/sdk-provider.o
	$(DL_WASM_LD) $(DL_LDFLAGS) --allow-undefined -o $@ $^
$(DL_DIR)/fixtures/noexport.wasm: $(DL_DIR)/fixtures/noexport.o $(DL_DIR)/sdk-bump.o
	$(DL_WASM_LD) $(DL_LDFLAGS) -o $@ $^
$(DL_DIR)/fixtures/bigmem.wasm: $(DL_DIR)/fixtures/bigmem.o $(DL_DIR)/sdk-provider.o
	$(DL_WASM_LD) $(DL_LDFLAGS) --initial-memory=8388608 -o $@ $^
$(DL_DIR)/fixtures/%.wasm: $(DL_DIR)/fixtures/%.o $(DL_DIR)/sdk-provider.o
	$(DL_WASM_LD) $(DL_LDFLAGS) -o $@ $^

# The test guest: wasm32-wasi with wasi-libc, the SDK in its default
# flavour and the malloc-based cabi_realloc python.wasm uses too.
$(DL_DIR)/guest/%.o: tests/dynlink/guest.c $(SDK_HDRS) $(DL_WASI_MADE)
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -Iguest/sdk -c $< -o $@
$(DL_DIR)/guest/sdk.o: guest/sdk/dynlink.c $(SDK_HDRS) $(DL_WASI_MADE)
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -Iguest/sdk -c $< -o $@
$(DL_DIR)/guest/cabi_realloc.o: guest/sdk/cabi_realloc.c $(DL_WASI_MADE)
	@mkdir -p $(dir $@)
	$(WASI_CC) $(WASI_CFLAGS) -c $< -o $@
$(DL_DIR)/guest.wasm: $(DL_DIR)/guest/guest.o $(DL_DIR)/guest/sdk.o $(DL_DIR)/guest/cabi_realloc.o
	$(WASI_CC) $(WASI_LDFLAGS) $^ -o $@

# Native test tools, linked against the library like any embedder.
$(DL_DIR)/dlrun: tests/dynlink/dlrun.c $(BUILD)/libpylon.a include/pylon/host.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpylon.a $(LDLIBS)
$(DL_DIR)/unit: tests/dynlink/unit.c $(BUILD)/libpylon.a include/pylon/host.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpylon.a $(LDLIBS)

# The bench: a bare guest that loops invokes, a runner that times it, and
# the crc32c providers' own C compiled natively for the native column.
$(DL_DIR)/bench_guest.o: bench/dynlink_guest.c $(SDK_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(DL_WASMFLAGS) -DDL_BUMP_ALLOC -c $< -o $@
$(DL_DIR)/bench_guest.wasm: $(DL_DIR)/bench_guest.o $(DL_DIR)/sdk-bump.o
	$(DL_WASM_LD) $(DL_LDFLAGS) -o $@ $^
$(DL_DIR)/native/%.o: caps/crc32c/providers/%.c
	@mkdir -p $(dir $@)
	$(WASM_CC) -O2 -Wall -c $< -o $@
DL_NATIVE_CRC := $(DL_DIR)/native/table.o $(DL_DIR)/native/slice8.o $(DL_DIR)/native/wide16.o
$(DL_DIR)/dynlink_bench: bench/dynlink_bench.c $(DL_NATIVE_CRC) $(BUILD)/libpylon.a include/pylon/host.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(DL_NATIVE_CRC) $(BUILD)/libpylon.a $(LDLIBS)

# With build/python/python.wasm (make python), the Python rows run too.
DL_PYTHON = $(firstword $(foreach w,$(BUILD)/python/python.wasm,\
              $(shell wasm-objdump -x -j Import $(w) 2>/dev/null | grep -q compose:dynlink && echo $(w))))
dynlink-bench: dynlink
	$(DL_DIR)/dynlink_bench --dir $(DL_DIR) --caps $(BUILD)/caps/crc32c \
	  $(if $(DL_PYTHON),--python $(DL_PYTHON) --root .) $(DYNLINK_BENCH_ARGS)

.SECONDARY: $(DL_DIR)/sdk-provider.o $(DL_DIR)/sdk-bump.o $(DL_FIXTURES:.wasm=.o) \
            $(CRC32C_PROVIDERS:.wasm=.o)
