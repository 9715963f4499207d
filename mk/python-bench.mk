# mk/python-bench.mk — Python workloads under Pylon (interpreter and AOT),
# under Node's node:wasi and natively, side by side (bench/python/bench.py;
# figures in docs/benchmarks.md).
#
#   make bench-python                         the full table (a few minutes)
#   make bench-python PYBENCH_ARGS='--quick'  one tiny run each: checks only
#   make bench-python PYBENCH_ARGS='--only fib,json --reps 5 --markdown'
#
# It needs build/pylon, build/python (make python) and /usr/bin/python3.11
# (Debian's python3.11 package, which the python build installs anyway);
# Node is optional (--runtimes native,interp,aot).  The AOT column compiles
# python.wasm once (about 4 minutes) when no artifact exists for it yet.
PYBENCH_ARGS ?=

.PHONY: bench-python
bench-python: $(BUILD)/pylon python
	/usr/bin/python3.11 bench/python/bench.py --pylon $(BUILD)/pylon $(PYBENCH_ARGS)
