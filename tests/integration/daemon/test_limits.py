"""Resource limits through the daemon: a memory hog ends out_of_memory, a fork bomb is held
by the pids limit and ends as a failure, and a task past its timeout ends timeout."""
import os
import time

from cgroups import cgroup_children
from harness import DaemonTestCase, describe, wait_for

HOG = r'''#!/usr/bin/python3
import sys
print("hog: allocating", file=sys.stderr, flush=True)
chunks = []
while True:
    chunks.append(b"\x01" * (1 << 20))  # written, so every page is charged
'''

BOMB = r'''#!/bin/sh
bomb() { bomb | bomb & }
bomb
sleep 30
'''

FORKER = r'''#!/usr/bin/python3
import os, sys, time
children = 0
try:
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError as e:
    sys.stderr.write("fork failed after %d children: %s\n" % (children, e))
    print(children)
    sys.exit(3)
print(children)
'''

LAMBDA_SLEEPER = r'''#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  case "$EVENT" in *sleep*) sleep 30 ;; esac
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\"pid\": $$}" > /dev/null
done
'''


class LimitsTest(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        art = cls.artifact("limits", {"hog.py": HOG, "bomb.sh": BOMB, "forker.py": FORKER,
                                      "sleeper": LAMBDA_SLEEPER})
        add = cls.daemon.add_task
        add(cls.manifest("hog", ["/usr/bin/python3", "hog.py"], art, timeout="20s",
                         limits={"memory": "32M", "cpu": 1, "pids": 16}))
        add(cls.manifest("bomb", ["/bin/sh", "bomb.sh"], art, timeout="2s",
                         limits={"memory": "64M", "cpu": 0.5, "pids": 16}))
        add(cls.manifest("forker", ["/usr/bin/python3", "forker.py"], art, timeout="10s",
                         limits={"memory": "64M", "cpu": 1, "pids": 16}))
        add(cls.manifest("sleepy", ["/bin/sleep", "30"], art, timeout="1s"))
        add(cls.manifest("sleepy-lambda", ["sleeper"], art, interface="lambda", timeout="1s",
                         network="none"))

    def test_memory_hog_is_out_of_memory(self):
        started = time.monotonic()
        r = self.daemon.invoke("hog")
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "out_of_memory", r)
        self.assertLess(time.monotonic() - started, 15, "the hog should be stopped by the limit, not the timeout")
        result = self.daemon.cli("task", "invoke", "hog")
        self.assertEqual(result.returncode, 6, describe(result))
        self.assertRegex(result.stdout + result.stderr, "out_of_memory|out of memory", describe(result))

    def test_fork_bomb_is_held_by_the_pids_limit(self):
        r = self.daemon.invoke_async("bomb")
        self.assertHTTP(r, 202)
        invocation_id = r.json()["id"]
        # While it runs, its cgroup has pids.max 16 and never more than 16 processes.
        pids_dirs = wait_for(lambda: [d for d in cgroup_children(self.daemon.cgroup_parent)
                                      if os.path.exists(os.path.join(d, "pids.max"))
                                      and _read(os.path.join(d, "pids.max")) == "16"],
                             5, what="a pids cgroup with pids.max 16")
        peak = 0
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            for d in pids_dirs:
                value = _read(os.path.join(d, "pids.current"))
                if value.isdigit():
                    peak = max(peak, int(value))
            time.sleep(0.05)
        self.assertLessEqual(peak, 16)
        view = self.daemon.wait_finished(invocation_id, timeout=15)
        self.assertNotEqual(view["status"], "ok", view)
        self.assertIn(view["status"], ("timeout", "crashed", "function_error"), view)
        # The bomb's processes are gone (when the main shell itself could not fork it ends
        # function_error and its environment may stay; a timeout ends the environment).
        if view["status"] == "timeout":
            wait_for(lambda: not self.daemon.environments("bomb"), 10, what="bomb environment to end")
        wait_for(lambda: not [p for d in pids_dirs for p in _read(os.path.join(d, "cgroup.procs")).split()
                              if _read("/proc/%s/comm" % p) != "gaffer-init"], 10,
                 what="the bomb's processes to be gone")
        # The daemon still serves.
        r = self.daemon.invoke("sleepy-lambda", {"quick": 1})
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)

    def test_fork_fails_beyond_the_pids_limit(self):
        r = self.daemon.invoke("forker")
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "function_error", r)
        body = r.json()
        self.assertRegex(body.get("detail", ""), "fork failed after [0-9]+ children", body)
        children = int(body["detail"].split("fork failed after ")[1].split()[0])
        self.assertLess(children, 16, body)

    def test_process_timeout(self):
        started = time.monotonic()
        r = self.daemon.invoke("sleepy")
        elapsed = time.monotonic() - started
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "timeout", r)
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 4.5, "a 1s timeout took %.1fs" % elapsed)
        result = self.daemon.cli("task", "invoke", "sleepy")
        self.assertEqual(result.returncode, 6, describe(result))
        self.assertIn("timeout", result.stdout + result.stderr)

    def test_lambda_timeout_ends_the_environment(self):
        first = self.daemon.invoke("sleepy-lambda", {"quick": 1})
        self.assertEqual(first.header("X-Gaffer-Status"), "ok", first)
        before = [e["id"] for e in self.daemon.environments("sleepy-lambda")]
        runtime_pid = first.json()["pid"]
        started = time.monotonic()
        r = self.daemon.invoke("sleepy-lambda", {"sleep": 1})
        self.assertEqual(r.header("X-Gaffer-Status"), "timeout", r)
        self.assertLess(time.monotonic() - started, 4.5)
        after = self.daemon.invoke("sleepy-lambda", {"quick": 2})
        self.assertEqual(after.header("X-Gaffer-Status"), "ok", after)
        now = [e["id"] for e in self.daemon.environments("sleepy-lambda")]
        self.assertTrue(before and now and not set(before) & set(now),
                        "a timed-out environment must not be reused: %r then %r" % (before, now))
        self.assertIsInstance(runtime_pid, int)


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""
