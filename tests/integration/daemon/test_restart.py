"""Long-lived tasks: restarted with a doubling backoff when they exit, marked broken after
broken_after_failures failures, and usable again once deployed anew."""
import json
import os
import re
import time

from harness import DaemonTestCase, describe, wait_for

# Each start appends a line with the monotonic time to the task log through stdout.
FLAKY = "#!/bin/sh\necho \"start $(cat /proc/uptime | cut -d' ' -f1)\"\nsleep 0.2\nexit 1\n"
STEADY = "#!/bin/sh\necho steady start\nexec sleep 1000\n"
BAD_RUNTIME = "#!/bin/sh\necho bad runtime start\nexit 2\n"


class RestartTest(DaemonTestCase):
    scheduler = {"restart_backoff_initial": "400ms", "restart_backoff_max": "2s",
                 "broken_after_failures": 3, "broken_window": "1h"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.art = cls.artifact("restart", {"flaky.sh": FLAKY, "steady.sh": STEADY,
                                           "bad-runtime": BAD_RUNTIME})

    def starts(self, task):
        try:
            with open(os.path.join(self.daemon.log_dir, task + ".log")) as f:
                return [float(m.group(1)) for m in re.finditer(r"\bstart ([0-9]+\.[0-9]+)", f.read())]
        except OSError:
            return []

    def test_restarted_with_backoff_then_broken(self):
        self.daemon.add_task(self.manifest("flaky", ["/bin/sh", "flaky.sh"], self.art, mode="long-lived"))
        wait_for(lambda: len(self.starts("flaky")) >= 2, 10, what="flaky to be restarted")
        wait_for(lambda: self.task_state_cli("flaky") == "broken", 15, what="flaky to be broken")
        starts = self.starts("flaky")
        self.assertEqual(len(starts), 3, "3 failures, then no more restarts: %r" % starts)
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        # Each run lasts at least 0.2s; the delays before restarts are 400ms, then 800ms
        # (start-up costs add to both; /proc/uptime has 10ms steps).
        self.assertGreaterEqual(gaps[0], 0.58, gaps)
        self.assertGreaterEqual(gaps[1], 0.98, gaps)
        self.assertGreater(gaps[1], gaps[0] + 0.25, "the backoff should double: %r" % gaps)
        time.sleep(0.5)  # a broken task stays down: nothing restarts it
        self.assertEqual(len(self.starts("flaky")), 3)
        self.assertEqual(self.daemon.task_state("flaky"), "broken")

        # Deploying it again (now steady) clears broken.
        self.daemon.add_task(self.manifest("flaky", ["/bin/sh", "steady.sh"], self.art,
                                           mode="long-lived", version="2"))
        wait_for(lambda: self.daemon.task_state("flaky") == "running", 10,
                 what="the redeployed task to run")

    def test_steady_service_runs(self):
        self.daemon.add_task(self.manifest("steady", ["/bin/sh", "steady.sh"], self.art, mode="long-lived"))
        wait_for(lambda: self.task_state_cli("steady") == "running", 10, what="steady to run")
        envs = self.daemon.environments("steady")
        self.assertEqual(len(envs), 1, envs)
        # A long-lived process task is a service: invoking it is invalid input.
        r = self.daemon.invoke("steady")
        self.assertHTTP(r, 400)

    def test_broken_lambda_refuses_invocations(self):
        self.daemon.add_task(self.manifest("bad-runtime", ["bad-runtime"], self.art,
                                           mode="long-lived", interface="lambda"))
        wait_for(lambda: self.daemon.task_state("bad-runtime") == "broken", 10,
                 what="bad-runtime to be broken")
        r = self.daemon.invoke("bad-runtime")
        self.assertHTTP(r, 503)
        self.assertEqual(r.json()["error"], "unavailable")

    def task_state_cli(self, name):
        result = self.daemon.cli("task", "show", name, "--json")
        self.assertEqual(result.returncode, 0, describe(result))
        return json.loads(result.stdout)["state"]
