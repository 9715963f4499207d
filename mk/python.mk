# CPython for wasm32-wasi: build/python/python.wasm and its stdlib in
# build/python/lib/python3.11.  guest/python/build.sh is the source of truth:
# it knows the pinned Debian sources, installs what it needs and decides by
# its own stamp whether anything must be rebuilt (a no-op run takes seconds),
# so that step is phony and simply calls it.  See guest/python/README.md.
#
# `make python` then compiles python.wasm ahead of time (pylon aot: wasm2c +
# clang-19, a few minutes) into build/python/python.aot.so, which `pylon run`
# uses by default.  The artifact is rebuilt when python.wasm or the AOT
# tier's generator changes, and is refused at load if it does not match.
PYTHON_WASM   := build/python/python.wasm
PYTHON_STDLIB := build/python/lib/python3.11
PYTHON_AOT    := build/python/python.aot.so

.PHONY: python python-force python-wasm
python: python-wasm
	@$(MAKE) --no-print-directory $(PYTHON_AOT)

python-wasm:
	guest/python/build.sh

$(PYTHON_AOT): $(PYTHON_WASM) src/engine/aot_build.c src/engine/aot_rt.c src/engine/aot_abi.h src/engine/aot_inject.h | $(BUILD)/pylon
	@echo "python: compiling python.wasm to native code (pylon aot; a few minutes)" >&2
	$(BUILD)/pylon aot compile $(PYTHON_WASM) -o $@

# Rebuild everything from the sources, ignoring the stamps.
python-force:
	guest/python/build.sh --force
	@$(MAKE) --no-print-directory $(PYTHON_AOT)
