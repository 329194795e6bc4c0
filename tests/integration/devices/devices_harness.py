"""Devices end to end: a real mosquitto with dynamic security (tests/integration/support),
a real gafferd connected to it as the broker's privileged client (the daemon harness in
tests/integration/daemon, with [broker] and [devices] added to its config), and real MQTT 5
clients (Debian's paho-mqtt 1.6.1) that connect with the credentials `gaffer device add`
prints. Written from the issue and docs/devices.md, docs/api.md, docs/cli.md and
docs/task-devices-api.md, not from the implementation."""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import harness  # noqa: E402
from harness import EXAMPLES, DaemonTestCase, describe, wait_for  # noqa: E402,F401
from mosquitto import Broker  # noqa: E402

import mqtt_client  # noqa: E402
from mqtt_client import Client  # noqa: E402

NOT_AUTHORIZED = mqtt_client.NOT_AUTHORIZED


# ---- the daemon with a broker --------------------------------------------------------------

class DeviceDaemon(harness.Daemon):
    """harness.Daemon plus `[broker]` (pointing at `broker`, with its admin password in a
    root-only file) and `[devices]`."""

    def __init__(self, root, broker, devices=None, broker_options=None, **sections):
        super().__init__(root, **sections)
        self.broker = broker
        secret = os.path.join(root, "broker-admin.secret")
        with open(secret, "w") as f:
            f.write(broker.admin_password + "\n")
        os.chmod(secret, 0o600)
        options = {"uri": broker.uri, "username": broker.admin_user, "password_file": secret,
                   "reconnect_min": "50ms", "reconnect_max": "500ms",
                   "ingest_socket": broker.ingest_socket}
        options.update(broker_options or {})
        with open(self.config_path, "a") as f:
            for name, values in (("broker", options), ("devices", devices or {})):
                f.write("[%s]\n" % name)
                for key, value in values.items():
                    f.write("%s = %s\n" % (key, harness._toml_value(value)))
                f.write("\n")

    def log_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def metrics(self):
        """{'name{labels}': value} from /metrics."""
        r = self.request("GET", "/metrics")
        if r.status != 200:
            raise AssertionError("GET /metrics: %r" % r)
        values = {}
        for line in r.text.splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            try:
                values[key] = float(value)
            except ValueError:
                pass
        return values

    def metric(self, name, default=None):
        return self.metrics().get(name, default)

    def metric_sum(self, prefix):
        """Sum of every series of a family (any labels)."""
        return sum(v for k, v in self.metrics().items()
                   if k == prefix or k.startswith(prefix + "{"))

    def wait_broker_connected(self, timeout=15):
        wait_for(lambda: self.metric("gaffer_mqtt_connected") == 1, timeout, 0.05,
                 "gafferd to connect to the broker\n" + self.log_tail())

    def wait_devices_ready(self, timeout=15):
        """Waits until a device added now is created on the broker at once and can connect
        (a probe device, removed again). Returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        attempt = 0
        while True:
            attempt += 1
            thing = "e2e-probe-%d" % attempt
            r = self.request("POST", "/v1/devices", {"thing": thing})
            ok = False
            if r.status == 201 and r.json()["device"]["credentials"] == "active":
                creds = r.json()["credentials"]
                c = Client(self.broker.port, thing, thing, creds["password"])
                ok = c.connect(3) == 0
                c.close()
            self.request("DELETE", "/v1/devices/" + thing)
            if ok:
                return time.monotonic() - started
            if time.monotonic() > deadline:
                raise AssertionError("devices not usable %ss after start (last add: %r)\n%s"
                                     % (timeout, r, self.log_tail()))
            time.sleep(0.1)

    # -- devices through the CLI
    def add_device(self, thing, *options):
        result = self.cli("--json", "device", "add", thing, *options)
        if result.returncode != 0:
            raise AssertionError("device add %s: %s\n%s" % (thing, describe(result), self.log_tail()))
        return json.loads(result.stdout)

    def add_route(self, source, topic_filter, target):
        result = self.cli("--json", "route", "add", source, topic_filter, target)
        if result.returncode != 0:
            raise AssertionError("route add %s %s %s: %s\n%s"
                                 % (source, topic_filter, target, describe(result), self.log_tail()))
        return json.loads(result.stdout)

    def remove_route(self, route_id):
        result = self.cli("route", "remove", str(route_id))
        if result.returncode != 0:
            raise AssertionError("route remove %s: %s" % (route_id, describe(result)))

    def device(self, thing):
        r = self.request("GET", "/v1/devices/" + thing)
        return r.json() if r.status == 200 else None


# ---- tasks ---------------------------------------------------------------------------------

# A Lambda handler for the device tests. It prints every event to its log (one line,
# "EVENT <json>"), so a test can see what routed invocations it got. An event
# {"actions": [...]} makes it call the runtime API extension and return every answer;
# a routed device message whose JSON payload has "reply_to" makes it publish the whole
# event it got on that topic at QoS 1.
HANDLER = r'''
import json
import os
import urllib.error
import urllib.parse
import urllib.request

API = "http://" + os.environ["GAFFER_RUNTIME_API"] + "/gaffer/v1"


def call(method, path, body=None):
    request = urllib.request.Request(API + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return {"status": response.status, "body": response.read().decode("utf-8", "replace")}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read().decode("utf-8", "replace")}


def act(action):
    op = action["op"]
    query = {}
    if action.get("name") is not None:
        query["name"] = action["name"]
    suffix = ("?" + urllib.parse.urlencode(query)) if query else ""
    if op == "publish":
        query = action.get("query")
        if query is None:
            query = urllib.parse.urlencode({"topic": action["topic"], "qos": action.get("qos", 0)})
        payload = action["payload"]
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        return call("POST", "/publish?" + query, data)
    if op == "shadow_get":
        return call("GET", "/shadow/" + action["thing"] + suffix)
    if op == "shadow_update":
        return call("POST", "/shadow/" + action["thing"] + suffix, json.dumps(action["request"]).encode())
    if op == "shadow_delete":
        return call("DELETE", "/shadow/" + action["thing"] + suffix)
    raise ValueError("unknown op " + op)


def handle(event, context):
    print("EVENT " + json.dumps(event, sort_keys=True), flush=True)
    if isinstance(event, dict) and "actions" in event:
        return [act(a) for a in event["actions"]]
    payload = event.get("payload") if isinstance(event, dict) else None
    if isinstance(payload, dict) and payload.get("reply_to"):
        answer = act({"op": "publish", "topic": payload["reply_to"], "qos": 1, "payload": event})
        print("REPLY " + json.dumps(answer), flush=True)
        return answer
    return {"ok": True}
'''


def bootstrap_text():
    with open(os.path.join(EXAMPLES, "hello-python", "bootstrap.py")) as f:
        return f.read()


EVENT_LINE = re.compile(r"EVENT (\{.*\})\s*$")


def settle(client, topic_filter, expected, timeout=2.0):
    """SUBSCRIBEs until the SUBACK code is `expected` (route grants land a few ms after
    `route add`/`route remove` answer: test_acl.AclTest.test_route_changes_take_effect_when_
    the_command_returns); returns the last code."""
    deadline = time.monotonic() + timeout
    while True:
        code = client.subscribe(topic_filter)
        if code == expected or time.monotonic() > deadline:
            return code
        time.sleep(0.02)


class DevicesTestCase(DaemonTestCase):
    """A broker with dynamic security (and `log_dest topic`, as the packaged config has, for
    presence, and Gaffer's ingest plugin unless `ingest` is False) and one gafferd connected to
    it, per class.

    anchor_route: keep one device -> task route for the whole class, so that the routing
    table never goes from empty to non-empty during a test: a message published right after
    such a `route add` may be lost (FreshStartTest.test_message_right_after_route_add_is_
    routed tests that on its own)."""

    start_daemon = False
    ingest = True  # the broker has Gaffer's ingest plugin, as the packaged config does
    devices = {}
    broker_options = {}
    anchor_route = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = Broker(dynsec=True, extra_config="log_dest topic\n", ingest=cls.ingest)
        cls.addClassCleanup(cls.broker.close)
        cls.broker.start()
        cls.daemon = cls.make_device_daemon("d")
        cls.daemon.start()
        cls.daemon.wait_broker_connected()
        # On a fresh broker gafferd's first session is cut by the broker right after it sets
        # itself up (see FreshStartTest in test_outages.py); let that pass before the tests.
        time.sleep(0.7)
        cls.daemon.wait_broker_connected()
        cls.daemon.wait_devices_ready()
        cls.tasks_dir = cls.artifact("devices-tasks", {"bootstrap.py": bootstrap_text(),
                                                       "e2e.py": HANDLER})
        if cls.anchor_route:
            r = cls.daemon.request("POST", "/v1/devices", {"thing": "e2e-anchor"})
            assert r.status == 201, r
            cls.daemon.add_route("device:e2e-anchor", "things/e2e-anchor/x", "task:e2e-anchor")
            time.sleep(0.3)

    @classmethod
    def make_device_daemon(cls, name, **sections):
        sections.setdefault("scheduler", dict(cls.scheduler))
        sections["scheduler"].setdefault("idle_timeout", "5m")
        daemon = DeviceDaemon(os.path.join(cls.workspace, name), cls.broker,
                              devices=cls.devices, broker_options=cls.broker_options, **sections)
        cls.addClassCleanup(daemon.cleanup)
        return daemon

    # -- devices and clients
    def new_device(self, thing, *options):
        """Registers a device; returns its credentials document."""
        added = self.daemon.add_device(thing, *options)
        self.addCleanup(self.daemon.cli, "device", "remove", thing)
        return added["credentials"]

    def client(self, client_id, username=None, password=None, **options):
        c = Client(self.broker.port, client_id, username, password, **options)
        self.addCleanup(c.close)
        return c

    def device_client(self, credentials, **options):
        """A connected client with the device's credentials."""
        c = self.client(credentials["client_id"], credentials["username"], credentials["password"],
                        **options)
        code = c.connect()
        self.assertEqual(code, 0, "device %s could not connect (CONNACK %r)\nbroker log:\n%s"
                         % (credentials["thing"], code, self.broker.log()[-1500:]))
        return c

    def observer(self):
        """The broker's admin account under another client id: sees every non-$ topic."""
        c = self.client("e2e-observer-%d" % id(self), self.broker.admin_user, self.broker.admin_password)
        self.assertEqual(c.connect(), 0)
        return c

    # -- the recording task
    def add_recorder(self, name, **fields):
        manifest = self.manifest(name, ["/usr/bin/python3", "/task/bootstrap.py"], self.tasks_dir,
                                 interface="lambda", handler="e2e.handle", timeout="20s",
                                 network="none", **fields)
        self.daemon.add_task(manifest)
        return name

    def events(self, task, daemon=None):
        """Every event the recorder task printed, in order."""
        daemon = daemon or self.daemon
        found = []
        for path in (os.path.join(daemon.log_dir, task + ".log"),):
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        m = EVENT_LINE.search(line)
                        if m:
                            try:
                                found.append(json.loads(m.group(1)))
                            except ValueError:
                                pass
            except OSError:
                pass
        return found

    def task_log(self, task, daemon=None):
        try:
            with open(os.path.join((daemon or self.daemon).log_dir, task + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def routed_events(self, task, daemon=None):
        return [e for e in self.events(task, daemon) if isinstance(e, dict) and "topic" in e]

    def wait_events(self, task, predicate, timeout=15, what="events", daemon=None):
        """Waits until predicate(routed events) is truthy; returns the events."""
        box = {}

        def check():
            box["events"] = self.routed_events(task, daemon)
            return predicate(box["events"])
        try:
            wait_for(check, timeout, 0.1, what)
        except AssertionError as error:
            d = daemon or self.daemon
            try:
                counters = {k: v for k, v in d.metrics().items()
                            if v and (k.startswith("gaffer_mqtt") or k.startswith("gaffer_invocations_total")
                                      or k.startswith("gaffer_devices") or k.startswith("gaffer_queue"))}
            except (AssertionError, OSError) as problem:
                counters = "unavailable: %s" % problem
            raise AssertionError("%s\nevents so far: %r\nmetrics: %r\ntask log tail: %r\n%s"
                                 % (error, box.get("events", [])[-10:], counters,
                                    self.task_log(task, d)[-800:], d.log_tail(25)))
        return box["events"]

    def run_actions(self, task, actions, timeout=60):
        """Invokes the recorder synchronously with actions; returns its list of answers."""
        r = self.daemon.invoke(task, {"actions": actions}, timeout=timeout)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", "%r\n%s" % (r, self.daemon.log_tail()))
        return r.json()
