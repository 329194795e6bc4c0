"""Crash safety: accepted asynchronous invocations and installed tasks survive a kill -9 of
gafferd, and a killed daemon leaves no environment processes behind."""
import json
import time

from cgroups import cgroup_pids, pid_alive
from harness import DaemonTestCase, wait_for

SLOW = "#!/bin/sh\nsleep 0.5\nprintf '{\"done\": %s}' \"$(cat)\"\n"


class DurabilityTest(DaemonTestCase):
    start_daemon = False

    def test_async_invocations_survive_kill9(self):
        daemon = self.new_daemon("queue", scheduler={"queue_limit": 100})
        daemon.start()
        art = self.artifact("slow", {"slow.sh": SLOW})
        manifest = self.manifest("slow", ["/bin/sh", "slow.sh"], art, max_concurrency=1)
        daemon.add_task(manifest)
        ids = []
        for n in range(20):
            r = daemon.invoke_async("slow", n)
            self.assertHTTP(r, 202, daemon)
            ids.append(r.json()["id"])
        self.assertEqual(len(set(ids)), 20, ids)
        pending = [i for i in ids if daemon.invocation(i)["state"] != "finished"]
        self.assertGreaterEqual(len(pending), 10, "most should still be pending at the kill")
        environment_pids = wait_for(lambda: cgroup_pids(daemon.cgroup_parent), 5,
                                    what="the slow task's environment processes")
        daemon.kill9()

        # Without its daemon (control channel at EOF) an environment ends by itself.
        wait_for(lambda: not any(pid_alive(p) for p in environment_pids), 10,
                 what="environment processes %s to end after kill -9" % sorted(environment_pids))

        daemon.start()
        tasks = daemon.get_json("/v1/tasks")["tasks"]
        self.assertEqual([t["name"] for t in tasks], ["slow"])
        installed = daemon.get_json("/v1/tasks/slow")["manifest"]
        self.assertEqual(installed["command"], manifest["command"])
        self.assertEqual(installed["artifact_dir"], art)
        deadline = time.monotonic() + 60
        for n, invocation_id in enumerate(ids):
            view = daemon.wait_finished(invocation_id, timeout=max(1, deadline - time.monotonic()))
            self.assertEqual(view["status"], "ok", "invocation %d (%s): %r\n%s"
                             % (n, invocation_id, view, daemon.log_tail()))
            self.assertEqual(json.loads(view["response"]), {"done": n}, view)

    def test_tasks_survive_kill9(self):
        daemon = self.new_daemon("tasks")
        daemon.start()
        art = self.artifact("cat", {})
        for name in ("survivor-a", "survivor-b"):
            result = daemon.cli("task", "add", "-", input=json.dumps(
                self.manifest(name, ["/bin/cat"], art, version="7")))
            self.assertEqual(result.returncode, 0, result)
        daemon.kill9()
        daemon.start()
        for name in ("survivor-a", "survivor-b"):
            view = daemon.get_json("/v1/tasks/" + name)
            self.assertEqual(view["manifest"]["version"], "7", view)
            r = daemon.invoke(name, {"after": "restart"})
            self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
            self.assertEqual(r.json(), {"after": "restart"})
