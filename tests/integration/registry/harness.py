"""Plays gafferd's MQTT side for registry_driver: a paho client logged in as the dynsec admin
(client id gafferd) carries the driver's publications to a real mosquitto and feeds it the
dynsec responses and the broker's NOTICE log lines. Devices are plain paho clients."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

import paho.mqtt.client as mqtt

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from mosquitto import Broker  # noqa: E402

RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"
PRESENCE_TOPIC = "$SYS/broker/log/N"
# What presence needs from the broker (log_type all is already in Broker's config).
PRESENCE_CONFIG = "log_dest topic\nlog_type notice\nconnection_messages true\n"


def require_integration(test_case):
    """Skips without root or the driver; GAFFER_REQUIRE_INTEGRATION=1 makes that a failure."""
    problem = None
    if os.geteuid() != 0:
        problem = "needs root (mosquitto drops privileges to its own user)"
    elif not os.access(os.environ.get("REGISTRY_DRIVER", ""), os.X_OK):
        problem = "registry_driver not found (set REGISTRY_DRIVER)"
    if problem is None:
        return
    if os.environ.get("GAFFER_REQUIRE_INTEGRATION") == "1":
        test_case.fail("integration test cannot run: " + problem)
    raise unittest.SkipTest(problem)


class Driver:
    """registry_driver plus the admin MQTT client that carries its traffic."""

    def __init__(self, broker, timeout_ms=3000):
        self.proc = subprocess.Popen([os.environ["REGISTRY_DRIVER"], str(timeout_ms)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.replies = queue.Queue()
        self.stdin_lock = threading.Lock()
        self.next_id = 1
        self.presence_lines = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(client_id="gafferd", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(broker.admin_user, broker.admin_password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if not self.subscribed.wait(5):
            raise RuntimeError("admin client did not subscribe:\n" + broker.log())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        client.subscribe([(RESPONSE_TOPIC, 1), (PRESENCE_TOPIC, 1)])

    def _on_message(self, client, userdata, msg):
        payload = msg.payload.decode(errors="replace")
        if msg.topic == PRESENCE_TOPIC:
            self.presence_lines.append(payload)
        self.send({"op": "message", "topic": msg.topic, "payload": payload})

    def _read(self):
        for line in self.proc.stdout:
            out = json.loads(line)
            if "publish" in out:
                self.client.publish(out["publish"]["topic"], out["publish"]["payload"], qos=1)
            else:
                self.replies.put(out)

    def send(self, obj):
        with self.stdin_lock:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()

    def call(self, op, timeout=10, **fields):
        request_id = self.next_id
        self.next_id += 1
        self.send(dict(fields, op=op, id=request_id))
        deadline = time.monotonic() + timeout
        while True:
            reply = self.replies.get(timeout=max(0.01, deadline - time.monotonic()))
            if reply.get("id") == request_id:
                return reply

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
        self.proc.stdin.close()
        self.proc.wait(5)


class Device:
    """A device's MQTT 5 session: records what it receives, SUBACK codes and disconnects."""

    def __init__(self, port, client_id, username, password):
        self.port = port
        self.messages = queue.Queue()
        self.suback = queue.Queue()
        self.connack = queue.Queue()
        self.disconnected = threading.Event()
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p=None: self.connack.put(rc.value if hasattr(rc, "value") else rc)
        self.client.on_disconnect = lambda c, u, rc, p=None: self.disconnected.set()
        self.client.on_subscribe = lambda c, u, mid, rcs, p=None: self.suback.put([r.value for r in rcs])
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload.decode()))

    def connect(self, timeout=5):
        """The CONNACK reason code (0 = accepted, 135 = not authorized)."""
        self.client.reconnect_delay_set(60, 60)  # a refused device must not retry during a test
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        return self.connack.get(timeout=timeout)

    def subscribe(self, topic_filter):
        self.client.subscribe(topic_filter, qos=1)
        return self.suback.get(timeout=5)[0]

    def publish(self, topic, payload):
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)

    def received(self, timeout=1.0):
        """Every (topic, payload) that arrives within `timeout`."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                return out

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class RegistryTestCase(unittest.TestCase):
    def setUp(self):
        require_integration(self)
        self.broker = Broker(dynsec=True, extra_config=PRESENCE_CONFIG).start()
        self.addCleanup(self.broker.close)
        self.driver = Driver(self.broker)
        self.addCleanup(self.driver.close)
        reconciled = self.driver.call("reconcile")
        self.assertTrue(reconciled["ok"], reconciled)
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.close()

    def add(self, thing):
        reply = self.driver.call("add", thing=thing)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["credentials"], "active", reply)
        return reply["password"]

    def device(self, client_id, username=None, password=None):
        d = Device(self.broker.port, client_id, username or client_id, password)
        self.devices.append(d)
        return d

    def connected(self, thing, password):
        d = self.device(thing, thing, password)
        self.assertEqual(d.connect(), 0, self.broker.log())
        return d
