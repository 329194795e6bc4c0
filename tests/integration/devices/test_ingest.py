"""QoS 1 device messages to tasks are acknowledged only once gafferd has committed them
(issue #3): the broker's ingest plugin holds the PUBACK until gafferd's verdict
(docs/devices.md "Durability"). Real mosquitto with the built plugin, real gafferd, real
MQTT 5 clients."""
import json
import os
import signal
import time

from devices_harness import DevicesTestCase, wait_for


def acked(info):
    """Whether the broker has acknowledged the message. paho's is_published() raises for a
    message queued while disconnected even once a resend is acknowledged; _published does not."""
    return bool(getattr(info, "_published", False))


def runs(events, run):
    return [e["payload"]["seq"] for e in events
            if isinstance(e.get("payload"), dict) and e["payload"].get("run") == run]


class IngestTest(DevicesTestCase):
    anchor_route = True

    def setUp(self):
        super().setUp()
        self.daemon.wait_broker_connected()
        wait_for(lambda: "connected to the broker's plugin" in self.daemon.log_text(), 10, 0.05,
                 "gafferd to connect to the ingest plugin\n" + self.daemon.log_tail())

    def freeze_gafferd(self):
        """SIGSTOP: gafferd is alive but answers nothing (a stall, a slow disk)."""
        os.kill(self.daemon.process.pid, signal.SIGSTOP)
        self.addCleanup(self.thaw_gafferd)

    def thaw_gafferd(self):
        if self.daemon.running():
            os.kill(self.daemon.process.pid, signal.SIGCONT)

    def routed_device(self, thing, task):
        """A device with a persistent session that resends what was not acknowledged, and a
        warm recorder task its things/<thing>/data messages are routed to."""
        creds = self.new_device(thing)
        dev = self.client(creds["client_id"], creds["username"], creds["password"], auto_reconnect=True,
                          clean_start=False, session_expiry=3600)
        self.assertEqual(dev.connect(), 0)
        self.add_recorder(task)
        self.daemon.add_route("device:" + thing, "things/%s/data" % thing, "task:" + task)
        self.assertTrue(dev.publish("things/%s/data" % thing, json.dumps({"run": "warm", "seq": 0})))
        self.wait_events(task, lambda evs: runs(evs, "warm"), 20, "the warm-up message")
        return dev

    def test_each_message_reaches_the_task_once_through_the_plugin(self):
        creds = self.new_device("once-1")
        dev = self.device_client(creds)
        self.add_recorder("oncerec")
        self.daemon.add_route("device:once-1", "things/once-1/data", "task:oncerec")
        before = self.daemon.metric('gaffer_mqtt_messages_ingested_total{result="accepted"}', 0)
        for seq in range(20):
            self.assertTrue(dev.publish("things/once-1/data", json.dumps({"run": "once", "seq": seq})))
        self.wait_events("oncerec", lambda evs: len(runs(evs, "once")) >= 20, 30, "20 invocations")
        time.sleep(0.5)  # a duplicate would come within this
        self.assertEqual(sorted(runs(self.routed_events("oncerec"), "once")), list(range(20)),
                         "each message exactly once (the plugin's copy, not also the '#' copy)")
        self.assertEqual(self.daemon.metric('gaffer_mqtt_messages_ingested_total{result="accepted"}', 0) - before, 20)
        self.assertGreaterEqual(self.daemon.metric("gaffer_mqtt_messages_ingested_copies_total", 0), 20)

    def test_no_puback_until_gafferd_has_committed(self):
        dev = self.routed_device("hold-1", "holdrec")
        self.freeze_gafferd()
        info = dev.publish_async("things/hold-1/data", json.dumps({"run": "held", "seq": 1}), 1)
        time.sleep(3.0)  # past the plugin's 2 s timeout: refused, the device resends
        self.assertFalse(acked(info), "the broker acknowledged a message gafferd had not committed")
        self.assertIn("not acknowledging a QoS 1 message from hold-1", self.broker.log())
        self.thaw_gafferd()
        wait_for(lambda: acked(info), 20, 0.05, "the PUBACK once gafferd is back")
        self.wait_events("holdrec", lambda evs: 1 in runs(evs, "held"), 20, "the held message")

    def test_messages_without_a_task_route_are_not_held(self):
        creds = self.new_device("free-1")
        dev = self.device_client(creds)
        self.freeze_gafferd()
        started = time.monotonic()
        self.assertTrue(dev.publish("things/free-1/data", "x", qos=1, timeout=2))
        self.assertLess(time.monotonic() - started, 1.0, "a message no task route takes waited for gafferd")

    def test_refused_while_gafferd_is_down_then_delivered(self):
        dev = self.routed_device("down-1", "downrec")
        code, _ = self.daemon.terminate(20)
        self.assertEqual(code, 0, self.daemon.log_tail())
        infos = [dev.publish_async("things/down-1/data", json.dumps({"run": "down", "seq": s}), 1)
                 for s in range(10)]
        time.sleep(1.0)
        self.assertFalse(any(acked(i) for i in infos),
                         "the broker acknowledged messages while gafferd was down")
        self.daemon.start()
        self.daemon.wait_broker_connected()
        wait_for(lambda: all(acked(i) for i in infos), 30, 0.1, "every PUBACK once gafferd is back")
        self.wait_events("downrec", lambda evs: set(runs(evs, "down")) == set(range(10)), 30,
                         "the 10 messages published while gafferd was down")

    def test_plugin_keeps_the_routes_across_a_broker_restart(self):
        """Until gafferd reconnects after a broker restart, the plugin holds messages back by
        the routes it saved, rather than letting them through unacknowledged by gafferd."""
        creds = self.new_device("keep-2")
        self.add_recorder("keep2rec")
        self.daemon.add_route("device:keep-2", "things/keep-2/data", "task:keep2rec")
        time.sleep(0.3)
        code, _ = self.daemon.terminate(20)
        self.assertEqual(code, 0, self.daemon.log_tail())
        self.addCleanup(self.daemon.wait_broker_connected)
        self.addCleanup(self.daemon.start)
        self.broker.restart()
        dev = self.device_client(creds)
        self.assertFalse(dev.publish("things/keep-2/data", json.dumps({"run": "restart", "seq": 0}), timeout=1),
                         "acknowledged with no gafferd to commit it")
