# mk/bench.mk — the engine-vs-native benchmark (bench/, docs/benchmarks.md).
#
#   make bench          build everything below, then run the full benchmark
#   make bench-build    only build: build/bench/*.wasm and build/bench/bench
#   make bench BENCH_ARGS='--only sort,fib --target-ms 300'
#
# Each bench/workloads/<name>.c is compiled twice from the same source:
# natively into the runner, and to a bare wasm32 module exporting
# bench_<name> and importing nothing, so the two halves of one run compute
# the same thing and only the executor differs.  Both sides get
# -ffreestanding (the sources use no libc; it also keeps clang from turning
# loops into memset calls a bare module could not satisfy) and
# -ffp-contract=off (no FMA natively, none in wasm: identical doubles).
# The runner itself is ordinary project code and uses CFLAGS.

BENCH_DIR       := $(BUILD)/bench
BENCH_NAMES     := $(sort $(basename $(notdir $(wildcard bench/workloads/*.c))))
BENCH_WASM      := $(BENCH_NAMES:%=$(BENCH_DIR)/%.wasm)
BENCH_NATIVE    := $(BENCH_NAMES:%=$(BENCH_DIR)/native/%.o)
BENCH_HDRS      := $(wildcard bench/workloads/*.h)
BENCH_WASM_LD   := wasm-ld-19
# The native side is compiled by the same clang-19 that produces the wasm,
# so the ratio measures the engine, not a difference between compilers.
BENCH_NATIVE_CC := $(WASM_CC)
BENCH_CODEFLAGS := -O2 -ffreestanding -ffp-contract=off -fno-math-errno -Wall -Wextra
# The native side is built for this machine's CPU, as the AOT tier builds
# its artifacts (-march=native): both halves get the same instruction set.
BENCH_NATIVEFLAGS := $(BENCH_CODEFLAGS) -march=native
# MVP plus the two small extensions the engine implements; no SIMD, no
# bulk memory, no non-trapping float-to-int.
BENCH_WASMFLAGS := --target=wasm32 -mcpu=mvp -msign-ext -mmutable-globals -nostdlib $(BENCH_CODEFLAGS)
BENCH_ARGS      ?=

.PHONY: bench bench-build
bench-build: $(BENCH_WASM) $(BENCH_DIR)/bench

bench: bench-build
	$(BENCH_DIR)/bench $(BENCH_ARGS)

$(BENCH_DIR)/wasm/%.o: bench/workloads/%.c $(BENCH_HDRS)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(BENCH_WASMFLAGS) -c $< -o $@

# A module that imports anything could not run on a bare engine, and would
# mean libc or a builtin crept in; refuse it here rather than at run time.
$(BENCH_DIR)/%.wasm: $(BENCH_DIR)/wasm/%.o
	$(BENCH_WASM_LD) --no-entry --export=bench_$* -o $@ $<
	@if wasm-objdump -h $@ | grep -qw Import; then \
	  echo "$@: module has imports:"; wasm-objdump -x -j Import $@; rm -f $@; exit 1; fi

$(BENCH_DIR)/native/%.o: bench/workloads/%.c $(BENCH_HDRS)
	@mkdir -p $(dir $@)
	$(BENCH_NATIVE_CC) $(BENCH_NATIVEFLAGS) -c $< -o $@

# The workload list reaches the runner as an X-macro, so dropping a new
# file into bench/workloads/ is all it takes to add a workload.
$(BENCH_DIR)/bench.o: bench/bench.c include/pylon/engine.h $(wildcard bench/workloads/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) '-DBENCH_LIST(X)=$(foreach n,$(BENCH_NAMES),X($(n)))' -c $< -o $@

$(BENCH_DIR)/bench: $(BENCH_DIR)/bench.o $(BENCH_NATIVE) $(BUILD)/libpylon.a
	$(CC) $(LDFLAGS) -o $@ $(BENCH_DIR)/bench.o $(BENCH_NATIVE) $(BUILD)/libpylon.a $(LDLIBS)

# Keep the wasm objects: otherwise Make deletes them as intermediates and
# rebuilds them on every run.
.SECONDARY: $(BENCH_NAMES:%=$(BENCH_DIR)/wasm/%.o)
