# tests/python/sigint.py: a program for the Ctrl-C checks of
# tests/groups/30-python.sh.  It prints "ready" once it is where the
# interrupt should land, then waits in one of the ways Ctrl-C must be able
# to end (the harness sends SIGINT to the pylon or python3.11 process and
# compares the two):
#   busy    a pure-Python loop (the eval loop's periodic check)
#   sleep   time.sleep (a WASI poll_oneoff on a clock only)
#   read    a read of stdin that never gets data (fd_read blocked on a pipe)
#   select  select() on a pipe with a timeout (poll_oneoff on fd + clock)
#   caught  busy, but catches KeyboardInterrupt, says so and exits 3: the
#           interpreter must still be in a usable state afterwards
import sys
import time

mode = sys.argv[1]
print("ready", flush=True)
if mode == "busy":
    n = 0
    while True:
        n += 1
elif mode == "sleep":
    time.sleep(60)
elif mode == "read":
    sys.stdin.buffer.read()
elif mode == "select":
    import select
    select.select([sys.stdin], [], [], 60)
elif mode == "caught":
    try:
        while True:
            pass
    except KeyboardInterrupt:
        print("caught KeyboardInterrupt", flush=True)
        print(sum(range(1000)))
        sys.exit(3)
print("not interrupted", flush=True)
