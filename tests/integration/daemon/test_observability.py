"""Prometheus /metrics after real invocations, and task output in the task log through
`gaffer task logs` and the API."""
import os
import re

from harness import DaemonTestCase, describe, wait_for

ECHO = "#!/bin/sh\necho \"stderr-of-$1\" >&2\ncat\n"
FAIL = "#!/bin/sh\necho failing >&2\nexit 3\n"
CHATTY = "#!/bin/sh\nfor i in $(seq -w 0 99); do echo \"chatty line $i $(printf '%060d' 0)\" >&2; done\n"
# A lambda runtime that writes one marked line to stdout and one to stderr per invocation.
TALKER = r'''#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "talker init on stdout"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "talker stdout $EVENT"
  echo "talker stderr $EVENT" >&2
  curl -sS -X POST "$API/invocation/$ID/response" -d '"ok"' > /dev/null
  rm -f "$HEADERS"
done
'''


def sample(text, name, labels=""):
    match = re.search(r"(?m)^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text)
    return float(match.group(1)) if match else None


class MetricsTest(DaemonTestCase):
    def test_invocation_counters_and_histogram(self):
        art = self.artifact("metrics", {"echo.sh": ECHO, "fail.sh": FAIL})
        self.daemon.add_task(self.manifest("m-echo", ["/bin/sh", "echo.sh", "m"], art))
        self.daemon.add_task(self.manifest("m-fail", ["/bin/sh", "fail.sh"], art))
        for n in range(3):
            self.assertEqual(self.daemon.invoke("m-echo", n).header("X-Gaffer-Status"), "ok")
        self.assertEqual(self.daemon.invoke("m-fail").header("X-Gaffer-Status"), "function_error")

        r = self.daemon.request("GET", "/metrics")
        self.assertHTTP(r, 200)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/plain"), r.headers)
        text = r.text
        self.assertEqual(sample(text, "gaffer_invocations_total", '{status="ok"}'), 3, text)
        self.assertEqual(sample(text, "gaffer_invocations_total", '{status="function_error"}'), 1, text)
        self.assertRegex(text, r"(?m)^# TYPE gaffer_invocations_total counter$")

        histogram = re.search(r"(?m)^# TYPE (gaffer_\w+) histogram$", text)
        self.assertIsNotNone(histogram, text)
        name = histogram.group(1)
        buckets = re.findall(r'(?m)^%s_bucket\{le="([^"]+)"\} (\S+)$' % name, text)
        self.assertGreaterEqual(len(buckets), 2, text)
        self.assertEqual(buckets[-1][0], "+Inf", buckets)
        counts = [float(v) for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "histogram buckets must be cumulative: %r" % buckets)
        self.assertEqual(counts[-1], 4, buckets)
        self.assertEqual(sample(text, name + "_count"), 4, text)
        self.assertGreater(sample(text, name + "_sum"), 0, text)
        self.assertRegex(text, r'(?m)^gaffer_requests_total\{[^}]*"200"[^}]*\} [1-9]')


class LogsTest(DaemonTestCase):
    def test_lambda_stdout_and_stderr_in_logs(self):
        art = self.artifact("talker", {"talker": TALKER})
        self.daemon.add_task(self.manifest("talker", ["talker"], art, interface="lambda"))
        for marker in ("first-event", "second-event"):
            r = self.daemon.invoke("talker", marker)
            self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)

        def logs_show_everything():
            result = self.daemon.cli("task", "logs", "talker")
            return result if result.returncode == 0 and "talker stderr \"second-event\"" in result.stdout else None

        result = wait_for(logs_show_everything, 5, 0.1, "the talker's lines in `gaffer task logs`")
        for line in ("talker init on stdout", 'talker stdout "first-event"', 'talker stderr "first-event"',
                     'talker stdout "second-event"'):
            self.assertIn(line, result.stdout, describe(result))
        self.assertTrue(os.path.exists(os.path.join(self.daemon.log_dir, "talker.log")))
        tail = self.daemon.request("GET", "/v1/tasks/talker/logs?tail=1")
        self.assertHTTP(tail, 200)
        self.assertEqual(len(tail.text.strip().splitlines()), 1, tail.text)
        self.assertIn("second-event", tail.text)

    def test_process_stderr_in_logs(self):
        art = self.artifact("echo", {"echo.sh": ECHO})
        self.daemon.add_task(self.manifest("logged-echo", ["/bin/sh", "echo.sh", "logged"], art))
        self.assertEqual(self.daemon.invoke("logged-echo", 1).header("X-Gaffer-Status"), "ok")
        wait_for(lambda: "stderr-of-logged" in self.daemon.cli("task", "logs", "logged-echo").stdout,
                 5, 0.1, "the process task's stderr in its log")


class LogRotationTest(DaemonTestCase):
    start_daemon = False

    def test_log_rotates_at_the_size_limit(self):
        daemon = self.new_daemon("rotation", environments={"log_max_bytes": "4K", "log_keep": 1})
        daemon.start()
        art = self.artifact("chatty", {"chatty.sh": CHATTY})
        daemon.add_task(self.manifest("chatty", ["/bin/sh", "chatty.sh"], art))
        for _ in range(3):
            self.assertEqual(daemon.invoke("chatty").header("X-Gaffer-Status"), "ok")
        current = os.path.join(daemon.log_dir, "chatty.log")
        wait_for(lambda: os.path.exists(current + ".1"), 5, 0.1, "chatty.log.1")
        self.assertFalse(os.path.exists(current + ".2"), "log_keep 1 keeps one rotated file")
        for path in (current, current + ".1"):
            self.assertLessEqual(os.path.getsize(path), 4096, path)
        result = daemon.cli("task", "logs", "chatty")
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertIn("chatty line 99 ", result.stdout)
