# CPython for wasm32-wasi: build/python/python.wasm and its stdlib in
# build/python/lib/python3.11.  guest/python/build.sh is the source of truth:
# it knows the pinned Debian sources, installs what it needs and decides by
# its own stamp whether anything must be rebuilt (a no-op run takes seconds),
# so the target is phony and simply calls it.  See guest/python/README.md.
PYTHON_WASM   := build/python/python.wasm
PYTHON_STDLIB := build/python/lib/python3.11

.PHONY: python python-force
python:
	guest/python/build.sh

# Rebuild everything from the sources, ignoring the stamps.
python-force:
	guest/python/build.sh --force
