"""Scheduling seen from outside: idle environments are reclaimed, a full gateway evicts the
longest-idle environment, max_concurrency bounds a task's environments, and deploying a
task again replaces it."""
import time

from cgroups import environment_cgroups
from harness import DaemonTestCase, wait_for

ECHO = "#!/bin/sh\ncat\n"
SLOW = "#!/bin/sh\nsleep 1\ncat\n"


class IdleReclaimTest(DaemonTestCase):
    scheduler = {"idle_timeout": "1s"}

    def test_idle_environment_is_reclaimed(self):
        art = self.artifact("echo", {"echo.sh": ECHO})
        self.daemon.add_task(self.manifest("idle-echo", ["/bin/sh", "echo.sh"], art))
        self.assertEqual(self.daemon.invoke("idle-echo", 1).header("X-Gaffer-Status"), "ok")
        envs = self.daemon.environments("idle-echo")
        self.assertEqual(len(envs), 1)
        self.assertTrue(environment_cgroups(self.daemon.cgroup_parent, envs[0]["id"]), envs)
        started = time.monotonic()
        wait_for(lambda: not self.daemon.environments("idle-echo"), 6, 0.1,
                 "the idle environment to be reclaimed after idle_timeout 1s")
        self.assertGreaterEqual(time.monotonic() - started, 0.5, "reclaimed before it was idle 1s")
        wait_for(lambda: not environment_cgroups(self.daemon.cgroup_parent, envs[0]["id"]), 5, 0.1,
                 "the reclaimed environment's cgroup to be removed")
        # The next invocation starts a fresh environment.
        self.assertEqual(self.daemon.invoke("idle-echo", 2).header("X-Gaffer-Status"), "ok")

    def test_replace_task(self):
        art = self.artifact("echo", {"echo.sh": ECHO})
        manifest = self.manifest("replaced", ["/bin/sh", "echo.sh"], art)
        self.assertHTTP(self.daemon.request("POST", "/v1/tasks", manifest), 201)
        manifest["version"] = "2"
        self.assertHTTP(self.daemon.request("POST", "/v1/tasks", manifest), 200)
        self.assertEqual(self.daemon.get_json("/v1/tasks/replaced")["manifest"]["version"], "2")
        self.assertEqual(self.daemon.invoke("replaced", 3).json(), 3)


class GatewayLimitsTest(DaemonTestCase):
    scheduler = {"idle_timeout": "5m", "max_environments": 2}

    def test_full_gateway_evicts_the_longest_idle(self):
        art = self.artifact("echo", {"echo.sh": ECHO})
        for name in ("evict-a", "evict-b", "evict-c"):
            self.daemon.add_task(self.manifest(name, ["/bin/sh", "echo.sh"], art))
        for name in ("evict-a", "evict-b", "evict-c"):
            r = self.daemon.invoke(name, name)
            self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
            self.assertEqual(r.json(), name)
            self.assertLessEqual(len(self.daemon.environments()), 2, self.daemon.environments())
        tasks = sorted(e["task"] for e in self.daemon.environments())
        self.assertEqual(tasks, ["evict-b", "evict-c"])
        for name in ("evict-a", "evict-b", "evict-c"):
            self.daemon.request("DELETE", "/v1/tasks/" + name)

    def test_max_concurrency_bounds_environments(self):
        art = self.artifact("slow", {"slow.sh": SLOW})
        self.daemon.add_task(self.manifest("parallel", ["/bin/sh", "slow.sh"], art, max_concurrency=2))
        started = time.monotonic()
        ids = [self.daemon.invoke_async("parallel", n).json()["id"] for n in range(4)]
        peak = 0
        while time.monotonic() - started < 1.5:
            peak = max(peak, len(self.daemon.environments("parallel")))
            time.sleep(0.05)
        for n, invocation_id in enumerate(ids):
            view = self.daemon.wait_finished(invocation_id, timeout=15)
            self.assertEqual((view["status"], view["response"].strip()), ("ok", str(n)), view)
        self.assertEqual(peak, 2, "max_concurrency 2 with 4 waiting invocations")
        # Four one-second invocations on two environments: about two seconds, not four.
        self.assertLess(time.monotonic() - started, 3.8)


class ResultRetentionTest(DaemonTestCase):
    scheduler = {"async_result_retention": 3}

    def test_oldest_finished_results_are_dropped(self):
        art = self.artifact("echo", {"echo.sh": ECHO})
        self.daemon.add_task(self.manifest("retained", ["/bin/sh", "echo.sh"], art))
        ids = []
        for n in range(5):
            r = self.daemon.invoke_async("retained", n)
            self.assertHTTP(r, 202)
            ids.append(r.json()["id"])
            self.daemon.wait_finished(ids[-1])
        for invocation_id in ids[-3:]:
            self.assertEqual(self.daemon.invocation(invocation_id)["status"], "ok")
        # Pruning may lag a little, but not forever: the journal is bounded.
        try:
            wait_for(lambda: all(self.daemon.request("GET", "/v1/invocations/" + i).status == 404
                                 for i in ids[:2]), 5, 0.2, "the two oldest results to be dropped")
        except AssertionError as e:
            statuses = [self.daemon.request("GET", "/v1/invocations/" + i).status for i in ids]
            self.fail("%s: async_result_retention 3, 5 finished results, GET statuses %r" % (e, statuses))
