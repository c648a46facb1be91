#!/usr/bin/env python3
"""Runs the integration suite (test_*.py here) against one server.

  run_suite.py --target redis|daxkv --server PATH [--pool-kind shm|file]
               [--daxkv-args "FLAGS"] [-k PATTERN] [-v]

Prints a one-line summary and exits non-zero on any failure. With --target
redis the expectations are checked against Debian's redis-server 7.0; with
--target daxkv the same tests drive daxkv-server.
"""

import argparse
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77  # ctest SKIP_RETURN_CODE


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", choices=["redis", "daxkv"], required=True)
    p.add_argument("--server", default="")
    p.add_argument("--pool-kind", choices=["shm", "file"], default="shm")
    # Extra flags for every daxkv-server started, e.g. "--io_engine epoll".
    p.add_argument("--daxkv-args", default=None)
    p.add_argument("-k", dest="pattern", action="append", default=[])
    p.add_argument("-p", dest="files", default="test_*.py")
    p.add_argument("-v", dest="verbose", action="store_true")
    a = p.parse_args()
    server = a.server or (shutil.which("redis-server") if a.target == "redis"
                          else "")
    if not server or not os.access(server, os.X_OK):
        print("SKIP: no %s server binary (%r)" % (a.target, server))
        return SKIP
    os.environ["DAXKV_IT_TARGET"] = a.target
    os.environ["DAXKV_IT_SERVER"] = server
    os.environ["DAXKV_IT_POOL_KIND"] = a.pool_kind
    if a.daxkv_args is not None:
        os.environ["DAXKV_IT_DAXKV_ARGS"] = a.daxkv_args
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if a.pattern:
        loader.testNamePatterns = ["*%s*" % k for k in a.pattern]
    suite = loader.discover(HERE, pattern=a.files, top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2 if a.verbose else 1)
    result = runner.run(suite)
    extra = os.environ.get("DAXKV_IT_DAXKV_ARGS", "")
    print("SUMMARY target=%s pool=%s run=%d failures=%d errors=%d skipped=%d%s"
          % (a.target, a.pool_kind, result.testsRun, len(result.failures),
             len(result.errors), len(result.skipped),
             " daxkv-args=%r" % extra if extra else ""))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
