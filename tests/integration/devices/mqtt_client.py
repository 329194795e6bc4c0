"""A real MQTT 5 client for the devices end-to-end tests: Debian's paho-mqtt 1.6.1 in its
own network thread, recording every message, SUBACK and disconnect."""
import json
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

NOT_AUTHORIZED = 0x87  # MQTT 5 reason code in a refused SUBACK / CONNACK


# ---- MQTT clients ---------------------------------------------------------------------------

class Client:
    """One MQTT 5 connection (paho in its own network thread) that records every message,
    SUBACK and disconnect. No automatic reconnect unless `auto_reconnect`."""

    def __init__(self, port, client_id, username=None, password=None, auto_reconnect=False,
                 clean_start=True, session_expiry=None):
        self.port = port
        self.client_id = client_id
        self.clean_start = clean_start
        self.session_expiry = session_expiry
        self.cond = threading.Condition()
        self.messages = []          # (topic, payload bytes, qos, retain)
        self.subacks = {}           # mid -> [reason code values]
        self.connack = None         # reason code value of the last CONNACK
        self.connected = False
        self.disconnects = 0
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5,
                                  reconnect_on_failure=auto_reconnect)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(0.05, 0.5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.started = False

    # callbacks (paho's thread)
    def _on_connect(self, client, userdata, flags, rc, properties=None):
        with self.cond:
            self.connack = rc.value if hasattr(rc, "value") else int(rc)
            self.connected = self.connack == 0
            self.cond.notify_all()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        with self.cond:
            self.connected = False
            self.disconnects += 1
            self.cond.notify_all()

    def _on_message(self, client, userdata, message):
        with self.cond:
            self.messages.append((message.topic, message.payload, message.qos, message.retain))
            self.cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        with self.cond:
            self.subacks[mid] = [getattr(rc, "value", rc) for rc in reason_codes]
            self.cond.notify_all()

    def _wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return value
                self.cond.wait(left)

    def connect(self, timeout=5):
        """Returns the CONNACK reason code (0: accepted), or None if none came."""
        with self.cond:
            self.connack = None
        properties = None
        if self.session_expiry is not None:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.session_expiry
        try:
            self.client.connect("127.0.0.1", self.port, keepalive=30,
                                clean_start=self.clean_start, properties=properties)
        except OSError:
            return None
        if not self.started:
            self.client.loop_start()
            self.started = True
        self._wait(lambda: self.connack is not None, timeout)
        return self.connack

    def wait_connected(self, timeout=10):
        return self._wait(lambda: self.connected, timeout)

    def wait_disconnected(self, timeout=5):
        return self._wait(lambda: not self.connected, timeout) is not False and not self.connected

    def subscribe(self, topic_filter, qos=1, timeout=5):
        """Returns the SUBACK reason code (0/1/2 granted QoS, >= 0x80 refused)."""
        result, mid = self.client.subscribe(topic_filter, qos)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError("subscribe %s: paho error %d" % (topic_filter, result))
        codes = self._wait(lambda: self.subacks.get(mid), timeout)
        if not codes:
            raise AssertionError("no SUBACK for %s within %ss" % (topic_filter, timeout))
        return codes[0]

    def publish(self, topic, payload, qos=1, timeout=5):
        """Publishes; for QoS 1 waits for the PUBACK. Returns True when it was acknowledged."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos)
        if qos == 0:
            return info.rc == mqtt.MQTT_ERR_SUCCESS
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def publish_async(self, topic, payload, qos=1):
        return self.client.publish(topic, payload, qos)

    # received messages
    def received(self, topic=None):
        with self.cond:
            return [m for m in self.messages if topic is None or m[0] == topic]

    def wait_message(self, topic, timeout=5, predicate=None, what=None):
        """The first message on `topic` (that satisfies predicate) as (topic, payload, qos,
        retain); raises on timeout."""
        def find():
            for m in self.messages:
                if m[0] == topic and (predicate is None or predicate(m)):
                    return m
            return None
        found = self._wait(find, timeout)
        if not found:
            raise AssertionError("no message on %s within %ss (%s); got: %r"
                                 % (topic, timeout, what or "", self.received()[-10:]))
        return found

    def wait_json(self, topic, timeout=5, predicate=None, what=None):
        """The first JSON message on topic whose document satisfies predicate."""
        def match(m):
            try:
                doc = json.loads(m[1])
            except ValueError:
                return False
            return predicate is None or predicate(doc)
        return json.loads(self.wait_message(topic, timeout, match, what)[1])

    def clear(self):
        with self.cond:
            self.messages.clear()

    def close(self):
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - closing a connection that may be gone already
            pass
        if self.started:
            self.client.loop_stop()
            self.started = False
