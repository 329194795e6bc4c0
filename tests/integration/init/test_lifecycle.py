"""Lifecycles: timeouts, crashes, shutdown, services, signals, zombies, lost control
channel, the process interface, and the task log with rotation."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (InitTestCase, EXAMPLES, EXITED, READY, RESULT, Environment,  # noqa: E402
                     base_spec, processes_with)

# A lambda runtime in sh whose handler behaviour is the event: "sleep", "kill9", "exit3".
SH_RUNTIME = r"""#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  H=$(mktemp)
  EVENT=$(curl -sS -D "$H" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  case "$EVENT" in
    *sleep*) /bin/sh -c "sleep 1000; : $MARKER" & sleep 60 ;;
    *kill9*) kill -9 $$ ;;
    *exit3*) exit 3 ;;
  esac
  curl -sS -X POST "$API/invocation/$ID/response" -d "done" >/dev/null
done
"""

SERVICE_TERM = r"""#!/bin/sh
trap 'echo "got TERM"; exit 0' TERM
trap 'echo "got USR1"' USR1
echo "service up"
while true; do sleep 0.05; done
"""

SERVICE_STUBBORN = r"""#!/bin/sh
trap '' TERM
echo "ignoring TERM"
/bin/sh -c "sleep 1000; : $MARKER" &
while true; do sleep 0.05; done
"""

ZOMBIE_MAKER = r"""#!/bin/sh
# Orphans: their parents exit at once, so they are re-parented to PID 1 and must be reaped.
for i in 1 2 3 4 5; do ( /bin/sh -c 'exit 0' & ); ( sleep 0.05 & ); done
sleep 0.8
grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l
"""

CHATTY = r"""#!/bin/sh
i=0
while [ $i -lt 300 ]; do
  printf 'line-%05d %s\n' $i "................................................................................"
  i=$((i+1))
done
echo "to stderr" >&2
printf 'partial-last-line'
"""

FAILING_PROCESS = r"""#!/bin/sh
cat >/dev/null
echo "partial output"
echo "something went wrong: disk on fire" >&2
exit 3
"""


class LifecycleTest(InitTestCase):
    def setUp(self):
        super().setUp()
        self.marker = "gaffer-it-marker-%d-%d" % (os.getpid(), time.monotonic_ns())

    def tearDown(self):
        for env in self.envs:
            env.close()
        for pid in processes_with(self.marker):
            os.kill(pid, signal.SIGKILL)
        self.ws.cleanup()

    def start(self, name, script, **overrides):
        artifact = self.ws.dir(name)
        self.ws.script(artifact, "run.sh", script)
        env_vars = overrides.pop("environment", {})
        env_vars["MARKER"] = self.marker
        spec = base_spec(name, ["/bin/sh", "/task/run.sh"], artifact_dir=artifact,
                         environment=env_vars, **overrides)
        env = Environment(spec)
        self.envs.append(env)
        return env

    def assert_gone(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while processes_with(self.marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(processes_with(self.marker), [])

    def test_timeout_reports_and_kills_everything(self):
        env = self.start("sleeper", SH_RUNTIME, timeout_ms=700)
        env.expect(READY, timeout=20)
        started = time.monotonic()
        env.invoke("slow", "sleep")
        result = env.expect(RESULT, timeout=10)
        elapsed = time.monotonic() - started
        self.assertEqual(result.header["status"], "timeout")
        self.assertEqual(result.header["id"], "slow")
        self.assertGreaterEqual(elapsed, 0.6)
        self.assertLess(elapsed, 5)
        self.assertEqual(env.expect(EXITED).header["reason"], "timeout")
        env.wait(10)
        self.assert_gone()

    def test_deadline_from_gafferd_wins_when_earlier(self):
        env = self.start("sleeper", SH_RUNTIME, timeout_ms=60000)
        env.expect(READY, timeout=20)
        started = time.monotonic()
        env.invoke("slow", "sleep", deadline_ms=int(time.time() * 1000) + 500)
        self.assertEqual(env.expect(RESULT, timeout=10).header["status"], "timeout")
        self.assertLess(time.monotonic() - started, 5)

    def test_crash_during_invocation(self):
        env = self.start("crasher", SH_RUNTIME)
        env.expect(READY, timeout=20)
        env.invoke("boom", "kill9")
        result = env.expect(RESULT)
        self.assertEqual((result.header["status"], result.header["detail"]), ("crashed", "killed by signal 9"))
        exited = env.expect(EXITED)
        self.assertEqual((exited.header["reason"], exited.header["signal"]), ("crashed", 9))
        self.assertNotEqual(env.wait(), 0)

    def test_exit_during_invocation(self):
        env = self.start("quitter", SH_RUNTIME)
        env.expect(READY, timeout=20)
        env.invoke("bye", "exit3")
        result = env.expect(RESULT)
        self.assertEqual(result.header["detail"], "exited with status 3")
        exited = env.expect(EXITED)
        self.assertEqual((exited.header["reason"], exited.header["code"]), ("crashed", 3))

    def test_runtime_dying_during_init(self):
        env = self.start("no-init", "#!/bin/sh\nexit 5\n")
        exited = env.expect(EXITED)
        self.assertEqual((exited.header["reason"], exited.header["code"]), ("crashed", 5))
        self.assertIn("during init", exited.header["detail"])

    def test_service_stops_on_shutdown_and_logs(self):
        log = os.path.join(self.ws.path, "svc.log")
        env = self.start("svc", SERVICE_TERM, interface="process", mode="long-lived", log_path=log)
        env.expect(READY)
        self.wait_for_log(log, "service up")
        env.invoke("nope", {})
        refused = env.expect(RESULT)
        self.assertEqual(refused.header["status"], "function_error")
        env.shutdown(grace_ms=5000)
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "stopped")
        self.assertEqual(env.wait(), 0)
        self.wait_for_log(log, "got TERM")

    def test_shutdown_grace_then_kill(self):
        env = self.start("stubborn", SERVICE_STUBBORN, interface="process", mode="long-lived",
                         log_path=os.path.join(self.ws.path, "stubborn.log"))
        env.expect(READY)
        self.wait_for_log(os.path.join(self.ws.path, "stubborn.log"), "ignoring TERM")
        started = time.monotonic()
        env.shutdown(grace_ms=400)
        exited = env.expect(EXITED)
        self.assertGreaterEqual(time.monotonic() - started, 0.35)
        self.assertEqual(exited.header["reason"], "stopped")
        self.assertIn("grace", exited.header["detail"])
        env.wait()
        self.assert_gone()

    def test_signals_are_forwarded_to_the_task(self):
        log = os.path.join(self.ws.path, "sig.log")
        env = self.start("svc", SERVICE_TERM, interface="process", mode="long-lived", log_path=log)
        env.expect(READY)
        self.wait_for_log(log, "service up")
        os.kill(env.proc.pid, signal.SIGUSR1)
        self.wait_for_log(log, "got USR1")
        os.kill(env.proc.pid, signal.SIGTERM)
        exited = env.expect(EXITED)
        self.assertEqual((exited.header["reason"], exited.header["code"]), ("exited", 0))
        self.wait_for_log(log, "got TERM")

    def test_service_exit_is_reported(self):
        env = self.start("short", "#!/bin/sh\necho bye\nexit 4\n", interface="process", mode="long-lived")
        env.expect(READY)
        exited = env.expect(EXITED)
        self.assertEqual((exited.header["reason"], exited.header["code"]), ("crashed", 4))

    def test_lost_control_channel_kills_the_environment(self):
        env = self.start("orphaned", SERVICE_STUBBORN, interface="process", mode="long-lived")
        env.expect(READY)
        deadline = time.monotonic() + 5
        while not processes_with(self.marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotEqual(processes_with(self.marker), [])
        env.sock.close()
        self.assertNotEqual(env.wait(10), 0)
        self.assert_gone()

    def test_zombies_are_reaped(self):
        env = self.start("zombies", ZOMBIE_MAKER, interface="process")
        env.expect(READY)
        env.invoke("z", b"")
        result = env.expect(RESULT, timeout=20)
        self.assertEqual(result.header["status"], "ok", result)
        self.assertEqual(result.payload.strip(), b"0")

    def test_process_interface_results(self):
        env = Environment(base_spec("echo-process", ["/bin/sh", "/task/echo.sh"], interface="process",
                                    artifact_dir=os.path.join(EXAMPLES, "echo-process")))
        self.envs.append(env)
        env.expect(READY)
        env.invoke("e1", {"hello": 1})
        ok = env.expect(RESULT)
        self.assertEqual(ok.header["status"], "ok")
        self.assertEqual(json.loads(ok.payload), {"echo": {"hello": 1}})

        log = os.path.join(self.ws.path, "fail.log")
        bad = self.start("fails", FAILING_PROCESS, interface="process", log_path=log)
        bad.expect(READY)
        bad.invoke("f1", {"x": 1})
        failed = bad.expect(RESULT)
        self.assertEqual(failed.header["status"], "function_error")
        self.assertIn("exited with status 3", failed.header["detail"])
        self.assertIn("disk on fire", failed.header["detail"])
        bad.invoke("f2", {"x": 2})  # the environment survives a failed invocation
        self.assertEqual(bad.expect(RESULT).header["id"], "f2")
        self.wait_for_log(log, "something went wrong: disk on fire")

        big = self.start("big", "#!/bin/sh\nhead -c 7000000 /dev/zero\n", interface="process")
        big.expect(READY)
        big.invoke("b1", b"")
        over = big.expect(RESULT, timeout=20)
        self.assertEqual(over.header["status"], "function_error")
        self.assertIn("exceeded", over.header["detail"])

    def test_log_relay_and_rotation(self):
        log = os.path.join(self.ws.path, "chatty.log")
        env = self.start("chatty", CHATTY, interface="process", mode="long-lived", log_path=log,
                         log_max_bytes=4096, log_keep=2)
        env.expect(READY)
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "exited")
        self.assertTrue(os.path.exists(log + ".1"))
        self.assertTrue(os.path.exists(log + ".2"))
        self.assertFalse(os.path.exists(log + ".3"))
        text = ""
        for path in (log + ".2", log + ".1", log):
            self.assertLessEqual(os.path.getsize(path), 4096, path)
            with open(path) as f:
                text += f.read()
        lines = text.splitlines()
        # stdout and stderr are separate pipes: no order between them, only within each.
        self.assertIn("partial-last-line", lines[-2:])
        self.assertIn("to stderr", lines)
        numbered = [l for l in lines if l.startswith("line-")]
        self.assertEqual(numbered[-1].split()[0], "line-00299")
        first = int(numbered[0].split()[0][5:])
        self.assertEqual([int(l.split()[0][5:]) for l in numbered], list(range(first, 300)))  # nothing lost within the kept files

    def test_long_lines_are_split(self):
        log = os.path.join(self.ws.path, "long.log")
        env = self.start("long", "#!/bin/sh\nhead -c 40000 /dev/zero | tr '\\0' L; echo; echo after\n",
                         interface="process", mode="long-lived", log_path=log)
        env.expect(READY)
        self.assertEqual(env.expect(EXITED).header["reason"], "exited")
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertEqual([len(l) for l in lines], [16384, 16384, 40000 - 2 * 16384, 5])
        self.assertEqual(lines[-1], "after")

    def wait_for_log(self, path, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    if text in f.read():
                        return
            time.sleep(0.05)
        self.fail("%r did not appear in %s" % (text, path))


if __name__ == "__main__":
    unittest.main(verbosity=2)
