# fib.py: naive recursive Fibonacci, a Python benchmark for bench/python/.
# It measures the cost of a Python-level call and small-int arithmetic: the
# interpreter's frame setup and eval loop dispatch, nothing else.
# Usage: fib.py [N] (default 28); prints the result and the seconds spent.
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 28
    t0 = time.perf_counter()
    r = fib(n)
    dt = time.perf_counter() - t0
    print(f"result {r}")
    print(f"seconds {dt:.6f}")


main()
