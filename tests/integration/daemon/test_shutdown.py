"""Graceful shutdown: SIGTERM with a long-lived service (one that ignores SIGTERM too) and a
warm on-demand environment ends gafferd with 0 within stop_grace plus a few seconds, and
leaves no task process, no environment cgroup and no socket behind."""
import json
import os
import threading

from cgroups import cgroup_children, cgroup_pids, pid_alive
from harness import EXAMPLES, DaemonTestCase, wait_for

SERVICE = "#!/bin/sh\necho service up\nexec sleep 1000\n"
STUBBORN = "#!/bin/sh\ntrap 'echo ignoring TERM' TERM\necho stubborn up\nwhile :; do sleep 0.2; done\n"


class ShutdownTest(DaemonTestCase):
    start_daemon = False

    def test_sigterm_stops_everything(self):
        grace = 2
        daemon = self.new_daemon("shutdown", scheduler={"stop_grace": "%ds" % grace})
        daemon.start()
        art = self.artifact("services", {"service.sh": SERVICE, "stubborn.sh": STUBBORN})
        daemon.add_task(self.manifest("service", ["/bin/sh", "service.sh"], art, mode="long-lived"))
        daemon.add_task(self.manifest("stubborn", ["/bin/sh", "stubborn.sh"], art, mode="long-lived"))
        with open(os.path.join(EXAMPLES, "hello-python", "manifest.json")) as f:
            warm = json.load(f)
        warm["artifact_dir"] = os.path.join(EXAMPLES, "hello-python")
        daemon.add_task(warm)
        r = daemon.invoke("hello-python", {"name": "before shutdown"})
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)

        wait_for(lambda: {e["task"] for e in daemon.environments()} >= {"service", "stubborn", "hello-python"}
                 and all(daemon.task_state(t) == "running" for t in ("service", "stubborn")),
                 10, what="both services running and a warm environment")
        children = cgroup_children(daemon.cgroup_parent)
        pids = cgroup_pids(daemon.cgroup_parent)
        self.assertTrue(children, "environments should have cgroups under %s" % daemon.cgroup_parent)
        self.assertGreaterEqual(len(pids), 3, pids)

        code, took = daemon.terminate(timeout=grace + 8)
        self.assertEqual(code, 0, daemon.log_tail())
        self.assertLess(took, grace + 5, "shutdown took %.1fs with stop_grace %ds" % (took, grace))
        alive = [p for p in pids if pid_alive(p)]
        self.assertEqual(alive, [], "task processes left after shutdown")
        self.assertEqual(cgroup_children(daemon.cgroup_parent), [],
                         "environment cgroups left under %s" % daemon.cgroup_parent)
        self.assertFalse(os.path.exists(daemon.socket), "the API socket should be removed")

    def test_queued_async_work_survives_a_graceful_restart(self):
        grace = 1
        daemon = self.new_daemon("restart", scheduler={"stop_grace": "%ds" % grace})
        daemon.start()
        art = self.artifact("slow", {"slow.sh": "#!/bin/sh\nsleep 0.5\ncat\n",
                                     "long.sh": "#!/bin/sh\nsleep 60\n"})
        daemon.add_task(self.manifest("queued", ["/bin/sh", "slow.sh"], art))
        daemon.add_task(self.manifest("long-sync", ["/bin/sh", "long.sh"], art, timeout="60s"))
        ids = [daemon.invoke_async("queued", n).json()["id"] for n in range(6)]
        sync_answer = {}

        def call_sync():
            sync_answer["response"] = daemon.invoke("long-sync", timeout=30)

        caller = threading.Thread(target=call_sync)
        caller.start()
        wait_for(lambda: any(e["state"] == "busy" for e in daemon.environments("long-sync")), 5,
                 what="the synchronous invocation to run")
        code, took = daemon.terminate(timeout=3 * grace + 8)
        caller.join(10)
        self.assertEqual(code, 0, daemon.log_tail())
        self.assertLess(took, 2 * grace + 5, daemon.log_tail())
        # A running synchronous invocation that outlives stop_grace ends cancelled.
        answer = sync_answer.get("response")
        self.assertIsNotNone(answer, "the synchronous caller got no answer before the daemon exited")
        self.assertEqual(answer.header("X-Gaffer-Status"), "cancelled", answer)

        daemon.start()
        for n, invocation_id in enumerate(ids):
            view = daemon.wait_finished(invocation_id, timeout=20)
            self.assertEqual((view["status"], view["response"].strip()), ("ok", str(n)), view)
