"""The demo's thermostat: one MQTT 5 connection with the device's own credentials.

A device's client id is locked to its thing name, and a second connection with the same id
takes the first one's session over, so the thermostat listens and reports on a single
connection (two mosquitto_sub/mosquitto_pub processes would knock each other off).
  demo-thermostat.py BROKER_PORT PASSWORD GO_FILE
It subscribes to its commands and shadow deltas, reports 19.5 degrees once GO_FILE exists,
prints what it received, and exits 1 if no command came within 30 seconds."""
import json
import os
import sys
import time

import paho.mqtt.client as mqtt

port, password, go_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
received = []
client = mqtt.Client(client_id="thermostat-1", protocol=mqtt.MQTTv5)
client.username_pw_set("thermostat-1", password)
client.on_message = lambda _c, _u, m: received.append((m.topic, m.payload.decode()))
client.connect("127.0.0.1", port)
client.loop_start()
client.subscribe([("things/thermostat-1/commands", 1), ("$aws/things/thermostat-1/shadow/update/delta", 1)])


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def commanded():
    return any(topic.endswith("/commands") for topic, _ in received)


wait_for(lambda: os.path.exists(go_file), 60)
client.publish("things/thermostat-1/telemetry", json.dumps({"temperature": 19.5}), qos=1).wait_for_publish()
ok = wait_for(commanded, 30)
client.disconnect()
client.loop_stop()
for topic, payload in received:
    print(topic, payload)
if not ok:
    print("no command within 30 s")
    sys.exit(1)
