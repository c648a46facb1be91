"""What the application tests share: their command line (the server under
test) and the run of their unittest cases. A missing server binary is a
skip (exit 77, ctest's SKIP_RETURN_CODE) that prints why."""

import argparse
import os
import sys
import unittest

SKIP = 77


def parse_args():
    """(args, the arguments left for unittest); args.server is the binary,
    or None after printing why the test skips."""
    p = argparse.ArgumentParser()
    p.add_argument("--target", choices=["redis", "daxkv"], required=True)
    p.add_argument("--server", default="")
    p.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    p.add_argument("-v", dest="verbose", action="store_true")
    args, rest = p.parse_known_args()
    if not args.server or not os.access(args.server, os.X_OK):
        print("SKIP: no %s server binary (%r)" % (args.target, args.server))
        args.server = None
    return args, rest


def run_tests(args, rest):
    """Runs the calling script's test cases; 0 when all passed, else 1."""
    prog = unittest.main(module="__main__", argv=[sys.argv[0]] + rest,
                         exit=False, verbosity=2 if args.verbose else 1)
    return 0 if prog.result.wasSuccessful() else 1
