"""Runs every devices end-to-end test module in this folder (meson test entry point).
Pass module names (e.g. test_shadow_mqtt) to run only those."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

if __name__ == "__main__":
    started = time.monotonic()
    loader = unittest.defaultTestLoader
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames(sys.argv[1:])
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    print("integration-devices: %.1fs" % (time.monotonic() - started))
    sys.exit(0 if result.wasSuccessful() else 1)
