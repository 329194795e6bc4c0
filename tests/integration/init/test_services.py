"""The device services (shadows, publish) that gaffer-init serves every task under /gaffer/v1/
and relays to gafferd as service_request frames. The test plays gafferd and answers them."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (InitTestCase, EXITED, LOG, READY, RESULT, SERVICE_REQUEST, Environment,  # noqa: E402
                     base_spec)

MAX_SERVICE_BODY = 8 * 1024 * 1024 - 512 * 1024  # runtime::kMaxServiceBody

# A Lambda custom runtime in bash, in the style of AWS's tutorial: every invocation calls
# each route with curl and answers {"env": ..., "calls": [{"status", "body"}, ...]}.
CURL_RUNTIME = r"""#!/bin/bash
set -uo pipefail
API="http://${GAFFER_RUNTIME_API}/gaffer/v1"
call() {  # method path [body]
  local out status
  out="$(mktemp)"
  if [ $# -ge 3 ]; then
    status=$(curl -s -o "$out" -w '%{http_code}' -X "$1" "$API$2" --data-binary "$3")
  else
    status=$(curl -s -o "$out" -w '%{http_code}' -X "$1" "$API$2")
  fi
  printf '{"status":%s,"body":%s}' "$status" "$(cat "$out")"
  rm -f "$out"
}
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" -o /dev/null "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next"
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  CALLS="$(call GET /shadow/lamp-1)"
  CALLS="$CALLS,$(call POST '/shadow/lamp-1?name=config' '{"state":{"desired":{"on":true}}}')"
  CALLS="$CALLS,$(call DELETE '/shadow/lamp-1?name=config')"
  CALLS="$CALLS,$(call POST '/publish?topic=things%2Flamp-1%2Fcmd&qos=1' 'switch on')"
  CALLS="$CALLS,$(call POST '/publish?topic=denied%2Fx' 'x')"
  CALLS="$CALLS,$(call GET '/shadow/bad%20name')"
  CALLS="$CALLS,$(call PUT /shadow/lamp-1)"
  CALLS="$CALLS,$(call POST /publish 'no topic')"
  RESPONSE="{\"env\":[\"${GAFFER_RUNTIME_API}\",\"${AWS_LAMBDA_RUNTIME_API}\"],\"calls\":[$CALLS]}"
  curl -sS -o /dev/null -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" --data-binary "$RESPONSE"
  rm -f "$HEADERS"
done
"""

# Shared by the Python tasks: one call with urllib, answered as [status, parsed body].
PY_CALL = r"""
import json, os, sys, threading, time, urllib.error, urllib.parse, urllib.request
API = "http://" + os.environ["GAFFER_RUNTIME_API"]
def call(method, path, body=None):
    req = urllib.request.Request(API + path, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return [r.status, json.loads(r.read())]
    except urllib.error.HTTPError as e:
        return [e.code, json.loads(e.read())]
def publish(topic, payload):
    return call("POST", "/gaffer/v1/publish?topic=" + urllib.parse.quote(topic, safe=""), payload)
"""

# A process task (one process per invocation): the event names the thing and topic.
URLLIB_TASK = "#!/usr/bin/python3" + PY_CALL + r"""
event = json.load(sys.stdin)
thing = event["thing"]
calls = [
    call("GET", "/gaffer/v1/shadow/" + thing),
    call("POST", "/gaffer/v1/shadow/%s?name=cfg" % thing, json.dumps({"state": {"reported": {"t": 21}}}).encode()),
    call("DELETE", "/gaffer/v1/shadow/" + thing),
    publish(event["topic"], b"\x00\x01binary\xff"),
    call("POST", "/gaffer/v1/publish?topic=x&qos=2", b""),
    call("POST", "/gaffer/v1/publish?topic=big", b"x" * (event["big"])),
    call("GET", "/2018-06-01/runtime/invocation/next"),
]
print(json.dumps({"env": {k: v for k, v in os.environ.items() if "RUNTIME_API" in k}, "calls": calls}))
"""

# A long-lived service that publishes on its own (no invocation), then publishes what it
# was answered, so the test sees that the answer reached it.
SERVICE_TASK = "#!/usr/bin/python3" + PY_CALL + r"""
first = publish("things/svc/hello", b"up")
publish("things/svc/echo", json.dumps(first).encode())
time.sleep(3600)
"""

# 17 concurrent calls: 16 wait for gafferd, one is refused at once; then a report.
LOAD_TASK = "#!/usr/bin/python3" + PY_CALL + r"""
results, lock = [], threading.Lock()
def worker(i):
    answer = publish("load/%d" % i, b"x")
    with lock:
        results.append(answer)
    print("answered %d" % answer[0], flush=True)
threads = [threading.Thread(target=worker, args=(i,)) for i in range(17)]
for t in threads: t.start()
for t in threads: t.join()
publish("report", json.dumps(results).encode())
time.sleep(3600)
"""

# gafferd never answers the first call: 504 after service_timeout_ms; the second call must
# get its own answer, not the late one for the first.
TIMEOUT_TASK = "#!/usr/bin/python3" + PY_CALL + r"""
started = time.monotonic()
slow = call("GET", "/gaffer/v1/shadow/slow")
elapsed = time.monotonic() - started
fast = call("GET", "/gaffer/v1/shadow/fast")
publish("report", json.dumps({"slow": slow, "elapsed": elapsed, "fast": fast}).encode())
time.sleep(3600)
"""


def fake_gafferd(frame):
    """What the test's gafferd answers: echoes enough of each request to check it arrived whole."""
    h = frame.header
    if h["op"] == "shadow_get":
        return 200, {"state": {"reported": {"on": False}}, "version": 3, "thing": h["thing"]}
    if h["op"] == "shadow_update":
        return 200, {"received": json.loads(frame.payload), "shadow": h.get("shadow", "")}
    if h["op"] == "shadow_delete":
        return 200, {"version": 4}
    if h["topic"].startswith("denied/"):
        return 403, {"error": "denied", "message": "no route lets this task publish on " + h["topic"]}
    return 202, {"topic": h["topic"], "bytes": len(frame.payload)}


def serve(env, until, answer=fake_gafferd, timeout=30.0, count=None):
    """Plays gafferd: answers service requests until a frame of type `until` (or, with
    until=SERVICE_REQUEST, until `count` requests came). Returns (requests, last frame)."""
    requests = []
    deadline = time.monotonic() + timeout
    while True:
        f = env.frame(max(0.1, deadline - time.monotonic()))
        if f.type == LOG:
            continue
        if f.type == SERVICE_REQUEST:
            requests.append(f)
            if answer:
                status, body = answer(f)
                env.reply(f.header["id"], status, body)
            if until == SERVICE_REQUEST and len(requests) == count:
                return requests, f
            continue
        if f.type == until:
            return requests, f
        raise AssertionError("unexpected %r; stderr: %s" % (f, env.stderr_text()))


class ServicesTest(InitTestCase):
    def start(self, spec):
        env = Environment(spec)
        self.envs.append(env)
        return env

    def task(self, name, text, **overrides):
        artifact = self.ws.dir(name)
        self.ws.script(artifact, "main", text)
        overrides.setdefault("log_path", os.path.join(self.ws.path, name + ".log"))
        return base_spec(name, ["main"], artifact_dir=artifact, **overrides)

    def test_lambda_task_calls_every_route_with_curl(self):
        env = self.start(self.task("curl-runtime", CURL_RUNTIME, handler="x.y"))
        env.expect(READY, timeout=20)
        env.invoke("inv-1", {})
        requests, result = serve(env, RESULT)
        self.assertEqual(result.header["status"], "ok", result)
        headers = [r.header for r in requests]
        self.assertEqual(headers, [
            {"id": 1, "op": "shadow_get", "thing": "lamp-1"},
            {"id": 2, "op": "shadow_update", "thing": "lamp-1", "shadow": "config"},
            {"id": 3, "op": "shadow_delete", "thing": "lamp-1", "shadow": "config"},
            {"id": 4, "op": "publish", "topic": "things/lamp-1/cmd", "qos": 1},
            {"id": 5, "op": "publish", "topic": "denied/x", "qos": 0},
        ])
        self.assertEqual(requests[1].payload, b'{"state":{"desired":{"on":true}}}')
        self.assertEqual(requests[3].payload, b"switch on")
        self.assertEqual(requests[0].payload, b"")

        seen = json.loads(result.payload)
        self.assertEqual(seen["env"], ["127.0.0.1:9001", "127.0.0.1:9001"])
        calls = seen["calls"]
        self.assertEqual(calls[0], {"status": 200, "body": {"state": {"reported": {"on": False}}, "version": 3,
                                                             "thing": "lamp-1"}})
        self.assertEqual(calls[1], {"status": 200, "body": {"received": {"state": {"desired": {"on": True}}},
                                                             "shadow": "config"}})
        self.assertEqual(calls[2], {"status": 200, "body": {"version": 4}})
        self.assertEqual(calls[3], {"status": 202, "body": {"topic": "things/lamp-1/cmd", "bytes": 9}})
        self.assertEqual(calls[4]["status"], 403)
        self.assertEqual(calls[4]["body"]["error"], "denied")
        # Answered by gaffer-init itself, never relayed.
        self.assertEqual(calls[5]["status"], 400)
        self.assertIn('thing name "bad name"', calls[5]["body"]["message"])
        self.assertEqual(calls[6]["status"], 405)
        self.assertEqual(calls[7]["status"], 400)
        self.assertIn("topic is missing", calls[7]["body"]["message"])

        env.invoke("inv-2", {})  # ids go on rising in the same environment
        requests, result = serve(env, RESULT)
        self.assertEqual([r.header["id"] for r in requests], [6, 7, 8, 9, 10])
        env.shutdown(500)
        env.expect(EXITED)

    def test_process_task_calls_with_urllib_on_the_host_network(self):
        env = self.start(self.task("urllib-task", URLLIB_TASK, interface="process", network="host",
                                   runtime_api_port=0))
        env.expect(READY, timeout=20)
        env.invoke("p-1", {"thing": "sensor:7", "topic": "things/sensor:7/temp é", "big": MAX_SERVICE_BODY + 1})
        requests, result = serve(env, RESULT)
        self.assertEqual(result.header["status"], "ok", result)
        self.assertEqual([r.header["op"] for r in requests],
                         ["shadow_get", "shadow_update", "shadow_delete", "publish"])
        self.assertEqual(requests[1].header["shadow"], "cfg")
        self.assertEqual(requests[3].header["topic"], "things/sensor:7/temp é")
        self.assertEqual(requests[3].payload, b"\x00\x01binary\xff")
        seen = json.loads(result.payload)
        self.assertEqual(list(seen["env"]), ["GAFFER_RUNTIME_API"])  # no Lambda API for process tasks
        host, port = seen["env"]["GAFFER_RUNTIME_API"].split(":")
        self.assertEqual(host, "127.0.0.1")
        self.assertNotEqual(int(port), 9001)  # an ephemeral port on the host network
        calls = seen["calls"]
        self.assertEqual([c[0] for c in calls], [200, 200, 200, 202, 400, 413, 404])
        self.assertEqual(calls[1][1]["received"], {"state": {"reported": {"t": 21}}})
        self.assertEqual(calls[4][1]["message"], 'qos must be 0 or 1, got "2"')
        self.assertEqual(calls[5][1]["error"], "invalid")
        self.assertIn("Lambda Runtime API is served to lambda tasks only", calls[6][1]["message"])

    def test_long_lived_service_publishes_between_invocations(self):
        env = self.start(self.task("service", SERVICE_TASK, interface="process", mode="long-lived"))
        env.expect(READY, timeout=20)
        requests, _ = serve(env, SERVICE_REQUEST, count=2)
        self.assertEqual(requests[0].header, {"id": 1, "op": "publish", "topic": "things/svc/hello", "qos": 0})
        self.assertEqual(requests[0].payload, b"up")
        self.assertEqual(json.loads(requests[1].payload), [202, {"topic": "things/svc/hello", "bytes": 2}])
        env.shutdown(500)
        self.assertEqual(env.expect(EXITED).header["reason"], "stopped")

    def test_at_most_16_in_flight_and_429_beyond(self):
        log = os.path.join(self.ws.path, "load.log")
        env = self.start(self.task("load", LOAD_TASK, interface="process", mode="long-lived",
                                   service_timeout_ms=60000, log_path=log))
        env.expect(READY, timeout=20)
        waiting, _ = serve(env, SERVICE_REQUEST, answer=None, count=16, timeout=60)
        def logged():
            if not os.path.exists(log):
                return ""
            with open(log) as f:
                return f.read()
        deadline = time.monotonic() + 20
        while "answered 429" not in logged() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(logged().splitlines(), ["answered 429"])
        with self.assertRaises(TimeoutError):
            env.frame(timeout=0.3)  # the 17th never reached gafferd
        for r in waiting:
            env.reply(r.header["id"], 202, {"topic": r.header["topic"]})
        requests, report = serve(env, SERVICE_REQUEST, count=1)
        self.assertEqual(report.header["topic"], "report")
        results = json.loads(report.payload)
        self.assertEqual(sorted(r[0] for r in results), [202] * 16 + [429])
        refused = [r[1] for r in results if r[0] == 429][0]
        self.assertEqual(refused["error"], "busy")
        self.assertEqual(sorted(r[1]["topic"] for r in results if r[0] == 202),
                         sorted(r.header["topic"] for r in waiting))

    def test_unanswered_request_times_out_with_504_and_late_reply_is_dropped(self):
        env = self.start(self.task("slow", TIMEOUT_TASK, interface="process", mode="long-lived",
                                   service_timeout_ms=300))
        env.expect(READY, timeout=20)
        first, _ = serve(env, SERVICE_REQUEST, answer=None, count=1)
        second, _ = serve(env, SERVICE_REQUEST, answer=None, count=1)  # arrives once the first timed out
        self.assertEqual(first[0].header["thing"], "slow")
        self.assertEqual(second[0].header["thing"], "fast")
        env.reply(first[0].header["id"], 200, {"late": True})
        env.reply(second[0].header["id"], 200, {"thing": "fast"})
        _, report = serve(env, SERVICE_REQUEST, count=1)
        seen = json.loads(report.payload)
        self.assertEqual(seen["slow"][0], 504)
        self.assertEqual(seen["slow"][1]["error"], "timeout")
        self.assertIn("300 ms", seen["slow"][1]["message"])
        self.assertGreater(seen["elapsed"], 0.25)
        self.assertLess(seen["elapsed"], 5)
        self.assertEqual(seen["fast"], [200, {"thing": "fast"}])

    def test_malformed_reply_from_gafferd_is_a_protocol_error(self):
        env = self.start(self.task("bad-reply", SERVICE_TASK, interface="process", mode="long-lived"))
        env.expect(READY, timeout=20)
        requests, _ = serve(env, SERVICE_REQUEST, answer=None, count=1)
        env.send(4, {"id": requests[0].header["id"], "status": "ok"})
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "protocol_error")
        self.assertIn("status", exited.header["detail"])
        self.assertEqual(env.wait(), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
