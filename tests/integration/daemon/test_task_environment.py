"""The variables a task gets from the daemon: the manifest's environment, PATH and HOME, the
Lambda variables derived from the manifest, and nothing of gafferd's own environment."""

from harness import DaemonTestCase, wait_for

# A minimal Lambda runtime (stdlib): answers each invocation with its environment.
ENV_RUNTIME = r'''#!/usr/bin/python3
import json, os, urllib.request
api = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        arn = r.headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        r.read()
    body = json.dumps({"env": dict(os.environ), "arn": arn}).encode()
    urllib.request.urlopen(urllib.request.Request(
        api + "/invocation/%s/response" % request_id, data=body, method="POST")).read()
'''
ENV_PROCESS = "#!/bin/sh\nexec /usr/bin/python3 -c 'import json, os; print(json.dumps(dict(os.environ)))'\n"


class TaskEnvironmentTest(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.art = cls.artifact("env", {"runtime.py": ENV_RUNTIME, "env.sh": ENV_PROCESS})

    def test_lambda_variables(self):
        self.daemon.add_task(self.manifest(
            "env-lambda", ["/usr/bin/python3", "runtime.py"], self.art, interface="lambda",
            handler="mod.fn", version="3.1.4", network="none",
            limits={"memory": "96M", "cpu": 0.5, "pids": 16},
            environment={"GREETING": "hi", "AWS_LAMBDA_FUNCTION_NAME": "overridden?"}))
        r = self.daemon.invoke("env-lambda")
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
        answer = r.json()
        env = answer["env"]
        self.assertEqual(env["GREETING"], "hi")
        self.assertEqual(env["_HANDLER"], "mod.fn")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "env-lambda", "Lambda variables win")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "3.1.4")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "96")
        self.assertEqual(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand")
        self.assertEqual(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001")
        self.assertEqual((env["LAMBDA_TASK_ROOT"], env["LAMBDA_RUNTIME_DIR"]), ("/task", "/task"))
        self.assertEqual(answer["arn"], "arn:aws:lambda:gaffer-local:000000000000:function:env-lambda")
        self.assertNotIn("GAFFER_E2E_DAEMON_ONLY", env)
        self.assertNotIn("AWS_ACCESS_KEY_ID", env)

    def test_host_network_lambda_gets_an_ephemeral_port(self):
        # On the host network environments share the loopback: the runtime API cannot use
        # the fixed port there.
        self.daemon.add_task(self.manifest("env-host", ["/usr/bin/python3", "runtime.py"], self.art,
                                           interface="lambda", network="host"))
        r = self.daemon.invoke("env-host")
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
        host, _, port = r.json()["env"]["AWS_LAMBDA_RUNTIME_API"].partition(":")
        self.assertEqual(host, "127.0.0.1")
        self.assertTrue(port.isdigit() and port != "9001", port)

    def test_long_lived_lambda_is_provisioned(self):
        self.daemon.add_task(self.manifest("env-provisioned", ["/usr/bin/python3", "runtime.py"],
                                           self.art, interface="lambda", mode="long-lived"))
        # Started with its deployment, before any invocation.
        wait_for(lambda: self.daemon.environments("env-provisioned"), 10,
                 what="the long-lived task's environment")
        for _ in range(2):
            r = self.daemon.invoke("env-provisioned")
            self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
            self.assertEqual(r.json()["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"], "provisioned-concurrency")
        envs = self.daemon.environments("env-provisioned")
        self.assertEqual(len(envs), 1, envs)
        self.assertEqual(envs[0]["invocations"], 2, envs)
        # Removing it stops its environment.
        self.assertHTTP(self.daemon.request("DELETE", "/v1/tasks/env-provisioned"), 200)
        wait_for(lambda: not self.daemon.environments("env-provisioned"), 10,
                 what="the removed task's environment to stop")

    def test_process_variables(self):
        self.daemon.add_task(self.manifest("env-process", ["/bin/sh", "env.sh"], self.art,
                                           environment={"ANSWER": "42"}))
        r = self.daemon.invoke("env-process")
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
        env = r.json()
        self.assertEqual(env["ANSWER"], "42")
        self.assertEqual(env["PATH"], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.assertEqual(env["HOME"], "/tmp")
        self.assertNotIn("GAFFER_E2E_DAEMON_ONLY", env)
        self.assertNotIn("AWS_LAMBDA_RUNTIME_API", env, "a process task has no runtime API")
