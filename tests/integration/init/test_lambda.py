"""The Lambda Runtime API as tasks use it: the AWS-tutorial bash runtime (curl), the urllib
Python runtime, and a probe that checks routes, headers, limits and keep-alive."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (InitTestCase, EXAMPLES, EXITED, INIT_ERROR, READY, RESULT, Environment,  # noqa: E402
                     base_spec)

# A runtime written against http.client: one keep-alive connection for /next, a second one
# for the answers, and a record of everything it saw, returned by the "report" invocation.
API_PROBE = r"""#!/usr/bin/python3
import http.client, json, os, socket
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.split(":")
seen = {"env": {k: v for k, v in os.environ.items() if "LAMBDA" in k or k == "_HANDLER"}}
def call(conn, method, path, body=None, headers=None):
    conn.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, dict(r.getheaders()), data
side = http.client.HTTPConnection(host, int(port))
seen["unknown_route"] = call(side, "GET", "/nope")[::2]
seen["unknown_id"] = call(side, "POST", "/invocation/bogus/response", b"{}")[::2]
seen["unknown_route"] = [seen["unknown_route"][0], json.loads(seen["unknown_route"][1])]
seen["unknown_id"] = [seen["unknown_id"][0], json.loads(seen["unknown_id"][1])]
nexts = http.client.HTTPConnection(host, int(port))
ports = set()
seen["answers"] = []
while True:
    status, headers, body = call(nexts, "GET", "/invocation/next")
    ports.add(nexts.sock.getsockname()[1])
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(body)
    seen.setdefault("headers", {})[rid] = {k: v for k, v in headers.items() if k.startswith("Lambda-") or k == "Content-Type"}
    if event["do"] == "report":
        seen["next_ports"] = sorted(ports)
        seen["side_port_stable"] = side.sock is not None
        status, _, _ = call(side, "POST", "/invocation/%s/response" % rid, json.dumps(seen).encode())
    elif event["do"] == "error":
        st, _, _ = call(side, "POST", "/invocation/%s/error" % rid,
                        json.dumps({"errorMessage": "bad", "errorType": "Custom.Bad"}).encode(),
                        {"Lambda-Runtime-Function-Error-Type": "Custom.Header"})
        seen["answers"].append(st)
    else:
        st, _, _ = call(side, "POST", "/invocation/%s/response" % rid, b"x" * event["size"])
        seen["answers"].append(st)
"""

INIT_FAILS = r"""#!/bin/sh
curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/init/error" \
  -H "Lambda-Runtime-Function-Error-Type: Runtime.ConfigError" \
  -d '{"errorMessage":"missing config","errorType":"Runtime.ConfigError"}'
sleep 30
"""

MB6 = 6 * 1024 * 1024


class LambdaTest(InitTestCase):
    def start(self, spec):
        env = Environment(spec)
        self.envs.append(env)
        return env

    def test_aws_tutorial_bash_runtime_with_curl(self):
        log = os.path.join(self.ws.path, "hello-shell.log")
        env = self.start(base_spec("hello-shell", ["bootstrap"], handler="function.handler",
                                   artifact_dir=os.path.join(EXAMPLES, "hello-shell"), log_path=log))
        env.expect(READY, timeout=20)
        for i in range(3):
            env.invoke("req-%d" % i, {"n": i})
            result = env.expect(RESULT, timeout=20)
            self.assertEqual(result.header, {"id": "req-%d" % i, "status": "ok"})
            self.assertEqual(result.payload.decode(), "Echoing request: '{\"n\": %d}'" % i)
        env.shutdown(grace_ms=2000)
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "stopped")
        self.assertEqual(env.wait(), 0)
        with open(log) as f:
            lines = f.read().splitlines()
        for i in range(3):
            self.assertIn('{"n": %d}' % i, lines)  # the handler's stderr

    def test_python_urllib_runtime_on_an_ephemeral_port(self):
        log = os.path.join(self.ws.path, "hello-python.log")
        env = self.start(base_spec("hello-python", ["/usr/bin/python3", "/task/bootstrap.py"],
                                   handler="handler.handle", network="host", runtime_api_port=0,
                                   artifact_dir=os.path.join(EXAMPLES, "hello-python"), log_path=log))
        env.expect(READY, timeout=20)
        env.invoke("ok-1", {"name": "gateway"})
        ok = env.expect(RESULT, timeout=20)
        self.assertEqual(ok.header["status"], "ok")
        self.assertEqual(json.loads(ok.payload), {"greeting": "hello, gateway", "function": "hello-python"})
        env.invoke("fail-1", {"fail": True})
        bad = env.expect(RESULT, timeout=20)
        self.assertEqual(bad.header["status"], "function_error")
        self.assertEqual(bad.header["detail"], "Unhandled")
        self.assertEqual(json.loads(bad.payload)["errorType"], "ValueError")
        env.shutdown(500)
        env.expect(EXITED)
        with open(log) as f:
            self.assertIn("invocation ok-1 for gateway", f.read())

    def test_runtime_api_routes_headers_limits_and_keep_alive(self):
        artifact = self.ws.dir("api-probe")
        self.ws.script(artifact, "bootstrap", API_PROBE)
        env = self.start(base_spec("api-probe", ["bootstrap"], handler="x.y", timeout_ms=20000,
                                   artifact_dir=artifact, version="7", memory_bytes=32 << 20,
                                   log_path=os.path.join(self.ws.path, "api.log")))
        env.expect(READY, timeout=20)
        env.invoke("small", {"do": "respond", "size": 10})
        self.assertEqual(env.expect(RESULT).payload, b"x" * 10)
        env.invoke("exact", {"do": "respond", "size": MB6})
        exact = env.expect(RESULT, timeout=30)
        self.assertEqual((exact.header["status"], len(exact.payload)), ("ok", MB6))
        env.invoke("big", {"do": "respond", "size": MB6 + 1})
        big = env.expect(RESULT, timeout=30)
        self.assertEqual(big.header["status"], "function_error")
        self.assertEqual(big.header["detail"], "Function.ResponseSizeTooLarge")
        env.invoke("err", {"do": "error"})
        err = env.expect(RESULT)
        self.assertEqual((err.header["status"], err.header["detail"]), ("function_error", "Custom.Header"))
        self.assertEqual(json.loads(err.payload)["errorMessage"], "bad")
        deadline = int(time.time() * 1000) + 5000
        env.invoke("report", {"do": "report"}, deadline_ms=deadline, trace_id="Root=1-test-trace")
        report = env.expect(RESULT)
        self.assertEqual(report.header["status"], "ok", report)
        seen = json.loads(report.payload)

        self.assertEqual(seen["unknown_route"][0], 404)
        self.assertIn("errorType", seen["unknown_route"][1])
        self.assertEqual(seen["unknown_id"][0], 400)
        self.assertEqual(seen["unknown_id"][1]["errorType"], "InvalidRequestID")
        self.assertEqual(seen["answers"], [202, 202, 413, 202])
        self.assertEqual(len(seen["next_ports"]), 1, "GET /next must reuse one keep-alive connection")
        h = seen["headers"]["report"]
        self.assertEqual(h["Lambda-Runtime-Aws-Request-Id"], "report")
        self.assertEqual(int(h["Lambda-Runtime-Deadline-Ms"]), deadline)
        self.assertEqual(h["Lambda-Runtime-Trace-Id"], "Root=1-test-trace")
        self.assertTrue(h["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:api-probe"))
        self.assertEqual(h["Content-Type"], "application/json")
        small = seen["headers"]["small"]
        remaining = int(small["Lambda-Runtime-Deadline-Ms"]) - int(time.time() * 1000)
        self.assertTrue(-60000 < remaining <= 20000, remaining)  # now + timeout_ms when not given
        self.assertTrue(small["Lambda-Runtime-Trace-Id"].startswith("Root=1-"))
        e = seen["env"]
        self.assertEqual(e["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001")
        self.assertEqual(e["_HANDLER"], "x.y")
        self.assertEqual(e["LAMBDA_TASK_ROOT"], "/task")
        self.assertEqual(e["AWS_LAMBDA_FUNCTION_NAME"], "api-probe")
        self.assertEqual(e["AWS_LAMBDA_FUNCTION_VERSION"], "7")
        self.assertEqual(e["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "32")

    def test_queued_invocations_run_in_order(self):
        env = self.start(base_spec("hello-shell", ["bootstrap"], handler="function.handler",
                                   artifact_dir=os.path.join(EXAMPLES, "hello-shell")))
        for i in range(4):
            env.invoke("q%d" % i, {"i": i})  # before the runtime even asked
        env.expect(READY, timeout=20)
        ids = [env.expect(RESULT, timeout=20).header["id"] for _ in range(4)]
        self.assertEqual(ids, ["q0", "q1", "q2", "q3"])

    def test_init_error_ends_the_environment(self):
        artifact = self.ws.dir("init-fails")
        self.ws.script(artifact, "bootstrap", INIT_FAILS)
        env = self.start(base_spec("init-fails", ["bootstrap"], artifact_dir=artifact))
        frame = env.expect(INIT_ERROR, timeout=20)
        self.assertEqual(frame.header["detail"], "Runtime.ConfigError")
        self.assertEqual(json.loads(frame.payload)["errorMessage"], "missing config")
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "init_error")
        self.assertNotEqual(env.wait(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
