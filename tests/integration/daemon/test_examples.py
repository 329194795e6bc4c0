"""The shipped examples through the real daemon: added with the CLI, invoked through the CLI
and raw HTTP, answers checked, and the warm environment reused."""
import json
import os

from harness import EXAMPLES, DaemonTestCase, describe, wait_for


class ExamplesTest(DaemonTestCase):
    scheduler = {"idle_timeout": "5m"}

    def add_example(self, name, relative=False):
        """Writes the example's manifest with artifact_dir pointing at the source tree
        (absolute, or relative to the manifest's own directory) and adds it with the CLI."""
        with open(os.path.join(EXAMPLES, name, "manifest.json")) as f:
            manifest = json.load(f)
        folder = os.path.join(self.workspace, "manifests")
        os.makedirs(folder, exist_ok=True)
        source = os.path.join(EXAMPLES, name)
        manifest["artifact_dir"] = os.path.relpath(source, folder) if relative else source
        path = os.path.join(folder, name + ".json")
        with open(path, "w") as f:
            json.dump(manifest, f)
        result = self.daemon.cli("task", "add", path)
        self.assertEqual(result.returncode, 0, describe(result) + self.daemon.log_tail())
        shown = self.daemon.cli("task", "show", name, "--json")
        self.assertEqual(shown.returncode, 0, describe(shown))
        canonical = json.loads(shown.stdout)["manifest"]
        self.assertEqual(canonical["artifact_dir"], os.path.realpath(source))
        return manifest

    def assert_warm_reuse(self, task, invocations):
        envs = self.daemon.environments(task)
        self.assertEqual(len(envs), 1, "expected one warm environment for %s: %r" % (task, envs))
        self.assertEqual(envs[0]["invocations"], invocations, envs)
        self.assertIn(envs[0]["state"], ("idle", "busy"), envs)

    def test_hello_shell_bash_lambda_bootstrap(self):
        self.add_example("hello-shell", relative=True)
        event = '{"name":"cli"}'
        result = self.daemon.cli("task", "invoke", "hello-shell", "--payload", event)
        self.assertEqual(result.returncode, 0, describe(result) + self.daemon.log_tail())
        self.assertIn("Echoing request: '%s'" % event, result.stdout)

        r = self.daemon.request("POST", "/v1/tasks/hello-shell/invoke", '{"name":"http"}')
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "ok")
        self.assertTrue(r.header("X-Gaffer-Invocation-Id"))
        self.assertEqual(r.text.strip(), "Echoing request: '{\"name\":\"http\"}'")
        self.assert_warm_reuse("hello-shell", 2)

    def test_hello_python(self):
        self.add_example("hello-python")
        result = self.daemon.cli("task", "invoke", "hello-python", "--payload", '{"name": "cli"}')
        self.assertEqual(result.returncode, 0, describe(result) + self.daemon.log_tail())
        self.assertEqual(json.loads(result.stdout),
                         {"greeting": "hello, cli", "function": "hello-python"})

        r = self.daemon.invoke("hello-python", {"name": "http"})
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "ok")
        self.assertEqual(r.json(), {"greeting": "hello, http", "function": "hello-python"})
        self.assert_warm_reuse("hello-python", 2)

        # A handler exception is a function error: 200 with the status header, exit 6.
        r = self.daemon.invoke("hello-python", {"fail": True})
        self.assertHTTP(r, 200)
        self.assertEqual(r.header("X-Gaffer-Status"), "function_error")
        self.assertIn("asked to fail", r.text)
        result = self.daemon.cli("task", "invoke", "hello-python", "--payload", '{"fail": true}')
        self.assertEqual(result.returncode, 6, describe(result))
        self.assertIn("function_error", result.stdout + result.stderr)
        # The function error did not kill the runtime: still the same warm environment.
        self.assert_warm_reuse("hello-python", 4)

    def test_echo_process_async_and_invocation_show(self):
        self.add_example("echo-process")
        r = self.daemon.invoke_async("echo-process", {"n": 7})
        self.assertHTTP(r, 202)
        view = self.daemon.wait_finished(r.json()["id"])
        self.assertEqual(view["status"], "ok", view)
        self.assertEqual(json.loads(view["response"]), {"echo": {"n": 7}})

        result = self.daemon.cli("task", "invoke", "echo-process", "--payload", '{"n": 8}',
                                 "--async", "--json")
        self.assertEqual(result.returncode, 0, describe(result))
        invocation_id = json.loads(result.stdout)["id"]
        self.daemon.wait_finished(invocation_id)
        shown = self.daemon.cli("invocation", "show", invocation_id, "--json")
        self.assertEqual(shown.returncode, 0, describe(shown))
        view = json.loads(shown.stdout)
        self.assertEqual((view["state"], view["status"]), ("finished", "ok"), view)
        self.assertEqual(json.loads(view["response"]), {"echo": {"n": 8}})
        missing = self.daemon.cli("invocation", "show", "no-such-invocation")
        self.assertEqual(missing.returncode, 3, describe(missing))

    def test_list_show_remove(self):
        self.daemon.add_task(self.manifest("to-remove", ["/bin/cat"], EXAMPLES, timeout="2m",
                                           limits={"memory": "8M", "cpu": 0.5}))
        # The canonical form: every field present, timeout in ms, memory in bytes.
        canonical = self.daemon.get_json("/v1/tasks/to-remove")["manifest"]
        self.assertEqual(canonical["timeout"], 120000)
        self.assertEqual(canonical["limits"], {"memory": 8 << 20, "cpu": 0.5, "pids": 64})
        for field in ("working_dir", "environment", "mode", "interface", "handler", "group",
                      "network", "resources", "max_concurrency", "user"):
            self.assertIn(field, canonical)
        self.assertEqual((canonical["working_dir"], canonical["mode"], canonical["network"]),
                         ("/task", "on-demand", "host"))
        listed = self.daemon.cli("task", "list", "--json")
        self.assertEqual(listed.returncode, 0, describe(listed))
        self.assertIn("to-remove", [t["name"] for t in json.loads(listed.stdout)["tasks"]])
        text = self.daemon.cli("task", "list")
        self.assertIn("to-remove", text.stdout)
        removed = self.daemon.cli("task", "remove", "to-remove")
        self.assertEqual(removed.returncode, 0, describe(removed))
        gone = self.daemon.cli("task", "show", "to-remove")
        self.assertEqual(gone.returncode, 3, describe(gone))
        self.assertHTTP(self.daemon.request("GET", "/v1/tasks/to-remove"), 404)

    def test_status_and_env_list(self):
        status = self.daemon.cli("status", "--json")
        self.assertEqual(status.returncode, 0, describe(status))
        view = json.loads(status.stdout)
        self.assertFalse(view["shutting_down"])
        self.assertIn("version", view)
        envs = self.daemon.cli("env", "list", "--json")
        self.assertEqual(envs.returncode, 0, describe(envs))
        self.assertIsInstance(json.loads(envs.stdout)["environments"], list)
        wait_for(lambda: self.daemon.cli("status").returncode == 0, 5, what="plain status")
