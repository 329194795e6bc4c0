"""Outages: the broker restarting in the middle of traffic (gafferd reconnects and
resubscribes, no accepted QoS 1 message lost), gafferd stopping while devices publish
(its persistent session keeps their messages), state that survives a gafferd restart, a
device added while the broker is down, and a broker that lost its dynamic-security file
(issue #3; docs/devices.md "The broker connection", "Registry and credentials",
"Durability")."""
import unittest
import json
import os
import subprocess
import threading
import time

from devices_harness import NOT_AUTHORIZED, DevicesTestCase, describe, wait_for
from mosquitto import MOSQUITTO_CTRL


def seqs(events, prefix):
    found = set()
    for e in events:
        p = e.get("payload")
        if isinstance(p, dict) and p.get("run") == prefix:
            found.add(p["seq"])
    return found


class Publisher(threading.Thread):
    """A device publishing numbered QoS 1 messages one after another, riding out broker
    outages (paho reconnects); remembers which ones the broker acknowledged."""

    def __init__(self, client, topic, run, count, reply_to=None):
        super().__init__(daemon=True)
        self.client, self.topic, self.run_id, self.count = client, topic, run, count
        self.reply_to = reply_to
        self.infos = {}
        self.sent = 0
        self.stop = False

    def run(self):
        for seq in range(self.count):
            if self.stop:
                return
            while not self.client.connected and not self.stop:
                time.sleep(0.01)
            message = {"run": self.run_id, "seq": seq}
            if self.reply_to:
                message["reply_to"] = self.reply_to
            info = self.client.publish_async(self.topic, json.dumps(message), 1)
            self.infos[seq] = info
            try:
                info.wait_for_publish(1.0)
            except (RuntimeError, ValueError):
                pass
            self.sent = seq + 1

    def acknowledged(self):
        return {seq for seq, info in self.infos.items() if info.is_published()}


class BrokerRestartTest(DevicesTestCase):
    scheduler = {"queue_limit": 5000}

    def test_broker_restart_mid_traffic_loses_no_acknowledged_message(self):
        creds = self.new_device("flow-1")
        dev = self.client(creds["client_id"], creds["username"], creds["password"], auto_reconnect=True)
        self.assertEqual(dev.connect(), 0)
        self.add_recorder("flowrec")
        self.daemon.add_route("device:flow-1", "things/flow-1/seq", "task:flowrec")
        # Warm the task up, so that the outage, not the first start, is what is measured.
        # (Repeated: a message sent at once after `route add` may be lost, see
        # FreshStartTest.test_message_right_after_route_add_is_routed.)
        for attempt in range(3):
            self.assertTrue(dev.publish("things/flow-1/seq", json.dumps({"run": "warm", "seq": attempt})))
            try:
                self.wait_events("flowrec", lambda evs: seqs(evs, "warm"), 7, "the warm-up message")
                break
            except AssertionError:
                if attempt == 2:
                    raise

        publisher = Publisher(dev, "things/flow-1/seq", "outage", 400)
        publisher.start()
        self.addCleanup(setattr, publisher, "stop", True)
        wait_for(lambda: len(publisher.acknowledged()) >= 120, 30, 0.02, "120 acknowledged messages")
        restart_at = publisher.sent
        self.broker.restart(down_seconds=0.5)
        publisher.join(90)
        self.assertFalse(publisher.is_alive(), "the publisher did not finish")
        acked = publisher.acknowledged()
        after_restart = {s for s in acked if s > restart_at + 5}
        self.assertGreater(len(after_restart), 50, "the device kept publishing after the restart")
        self.daemon.wait_broker_connected(15)

        box = {}

        def all_routed():
            box["seen"] = seqs(self.routed_events("flowrec"), "outage")
            return acked <= box["seen"]
        try:
            wait_for(all_routed, 60, 0.2, "every acknowledged message to invoke the task")
        except AssertionError:
            missing = sorted(acked - box.get("seen", set()))
            self.fail("%d of %d acknowledged QoS 1 messages never reached the task (restart after "
                      "seq %d); first missing: %r\n%s" % (len(missing), len(acked), restart_at,
                                                          missing[:20], self.daemon.log_tail(30)))

        # Everything else resubscribed too: the shadow service answers, and a task's
        # publication reaches the device.
        self.assertTrue(dev.wait_connected(10))
        self.assertEqual(dev.subscribe("$aws/things/flow-1/shadow/#"), 1)
        self.assertTrue(dev.publish("$aws/things/flow-1/shadow/update",
                                    json.dumps({"state": {"reported": {"after": "restart"}}})))
        dev.wait_json("$aws/things/flow-1/shadow/update/accepted", 10)

    def test_task_publication_during_outage_is_delivered_later(self):
        creds = self.new_device("late-1")
        # A persistent session, so that the broker keeps the subscription across its restart.
        dev = self.client(creds["client_id"], creds["username"], creds["password"], auto_reconnect=True,
                          clean_start=False, session_expiry=3600)
        self.assertEqual(dev.connect(), 0)
        self.assertEqual(dev.subscribe("things/late-1/cmd", qos=1), 1)
        self.add_recorder("latetask")
        self.daemon.add_route("task:latetask", "things/late-1/cmd", "device:late-1")
        self.assertEqual(self.run_actions("latetask", [{"op": "publish", "topic": "things/late-1/cmd",
                                                        "qos": 1, "payload": "before"}])[0]["status"], 202)
        dev.wait_message("things/late-1/cmd", 10, lambda m: m[1] == b"before")
        self.broker.stop()
        wait_for(lambda: self.daemon.metric("gaffer_mqtt_connected") == 0, 10, 0.05,
                 "gafferd to notice the broker is gone")
        answers = self.run_actions("latetask", [{"op": "publish", "topic": "things/late-1/cmd",
                                                 "qos": 1, "payload": "during-%d" % i} for i in range(5)])
        self.assertEqual([a["status"] for a in answers], [202] * 5, answers)
        self.assertGreaterEqual(self.daemon.metric("gaffer_mqtt_outbox_queued", 0), 5)
        # Tasks keep working while the broker is down.
        r = self.daemon.invoke("latetask", {"plain": True})
        self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
        self.broker.start()
        self.daemon.wait_broker_connected(15)
        for i in range(5):
            dev.wait_message("things/late-1/cmd", 20, lambda m, i=i: m[1] == b"during-%d" % i,
                             "publication %d made while the broker was down" % i)
        wait_for(lambda: self.daemon.metric("gaffer_mqtt_outbox_queued") == 0, 10, 0.1, "the outbox to drain")


class GafferdRestartWithoutPluginTest(DevicesTestCase):
    """A broker without Gaffer's ingest plugin (a user's own broker config): gafferd's
    persistent session keeps the messages published while it is down. (With the plugin the
    device keeps them: test_ingest.py.)"""
    scheduler = {"queue_limit": 5000}
    ingest = False

    def test_messages_published_while_gafferd_is_down_are_invoked_after(self):
        creds = self.new_device("keep-1")
        dev = self.device_client(creds)
        self.add_recorder("keeprec")
        self.daemon.add_route("device:keep-1", "things/keep-1/data", "task:keeprec")
        self.assertTrue(dev.publish("things/keep-1/data", json.dumps({"run": "up", "seq": 0})))
        self.wait_events("keeprec", lambda evs: seqs(evs, "up"), 20, "a message while up")

        code, _ = self.daemon.terminate(20)
        self.assertEqual(code, 0, self.daemon.log_tail())
        for seq in range(50):
            self.assertTrue(dev.publish("things/keep-1/data", json.dumps({"run": "down", "seq": seq})))
        self.daemon.start()
        self.daemon.wait_broker_connected()
        self.wait_events("keeprec", lambda evs: seqs(evs, "down") == set(range(50)), 60,
                         "the 50 messages published while gafferd was down")


class GafferdRestartTest(DevicesTestCase):
    scheduler = {"queue_limit": 5000}

    def test_gafferd_killed_mid_traffic(self):
        """SIGKILL while a device publishes: after the restart every message the broker
        acknowledged reaches the task. The ingest plugin holds each PUBACK until gafferd has
        committed the invocation (docs/devices.md "Durability")."""
        creds = self.new_device("kill-1")
        dev = self.client(creds["client_id"], creds["username"], creds["password"], auto_reconnect=True,
                          clean_start=False, session_expiry=3600)
        self.assertEqual(dev.connect(), 0)
        # Two ways to see that a message reached the task: the task's log (its stdout, which
        # passes through gafferd, so a line may be lost when gafferd is killed), and an
        # answer the task publishes for each message (through gafferd's outbox).
        self.assertEqual(dev.subscribe("things/kill-1/acks", qos=1), 1)
        self.add_recorder("killrec")
        self.daemon.add_route("device:kill-1", "things/kill-1/data", "task:killrec")
        self.daemon.add_route("task:killrec", "things/kill-1/acks", "device:kill-1")
        for attempt in range(3):
            self.assertTrue(dev.publish("things/kill-1/data", json.dumps({"run": "warm", "seq": attempt})))
            try:
                self.wait_events("killrec", lambda evs: seqs(evs, "warm"), 7, "the warm-up message")
                break
            except AssertionError:
                if attempt == 2:
                    raise
        publisher = Publisher(dev, "things/kill-1/data", "kill", 300, reply_to="things/kill-1/acks")
        publisher.start()
        self.addCleanup(setattr, publisher, "stop", True)
        wait_for(lambda: len(publisher.acknowledged()) >= 100, 30, 0.02, "100 acknowledged messages")
        received = self.daemon.metric("gaffer_mqtt_messages_received_total")
        self.daemon.kill9()
        killed_at = publisher.sent
        time.sleep(0.3)
        self.daemon.start()
        self.daemon.wait_broker_connected()
        publisher.join(60)
        acked = publisher.acknowledged()
        box = {}

        def answered():
            found = set()
            for _, body, _, _ in dev.received("things/kill-1/acks"):
                try:
                    found |= seqs([json.loads(body)], "kill")
                except ValueError:
                    pass
            return found

        def all_routed():
            box["seen"] = seqs(self.routed_events("killrec"), "kill") | answered()
            return acked <= box["seen"]
        try:
            wait_for(all_routed, 45, 0.2, "every acknowledged message to invoke the task")
        except AssertionError:
            pass
        missing = sorted(acked - box.get("seen", set()))
        self.assertEqual(missing, [], "%d of %d acknowledged QoS 1 messages lost across a SIGKILL "
                             "of gafferd (%d sent when killed; gaffer_mqtt_messages_received_total was %r "
                             "just before): %r\n%s" % (len(missing), len(acked), killed_at, received,
                                                       missing[:20], self.daemon.log_tail(20)))

    @unittest.skip('known gap (issue #3 note): presence is in memory; after a gafferd restart a device shows disconnected until it reconnects')
    def test_presence_is_right_after_a_gafferd_restart(self):
        """Docs are silent; a gateway user expects `device show` to tell the truth after a
        restart: still connected if the device stayed, disconnected if it left meanwhile."""
        stay = self.device_client(self.new_device("stay-1"))
        leave = self.device_client(self.new_device("leave-1"))
        wait_for(lambda: self.daemon.device("stay-1")["connected"] and self.daemon.device("leave-1")["connected"],
                 5, 0.05, "both devices to show as connected")
        code, _ = self.daemon.terminate(20)
        self.assertEqual(code, 0)
        leave.close()
        time.sleep(0.3)
        self.daemon.start()
        self.daemon.wait_broker_connected()
        wait_for(lambda: not self.daemon.device("leave-1")["connected"], 5, 0.1,
                 "leave-1, which disconnected while gafferd was down, to show as disconnected")
        self.assertTrue(stay.connected)
        self.assertTrue(self.daemon.device("stay-1")["connected"], "stay-1 is still connected")

    def test_state_survives_a_gafferd_restart(self):
        creds = self.new_device("persist-1", "--attribute", "model=P1", "--group", "g")
        dev = self.device_client(creds)
        other = self.device_client(self.new_device("persist-2"))
        self.assertEqual(dev.subscribe("$aws/things/persist-1/shadow/#"), 1)
        for i in range(3):
            self.assertTrue(dev.publish("$aws/things/persist-1/shadow/update",
                                        json.dumps({"state": {"reported": {"i": i}, "desired": {"i": 9}}})))
        r = self.daemon.request("POST", "/v1/devices/persist-1/shadow?name=cfg", {"state": {"desired": {"c": 1}}})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: self.daemon.get_json("/v1/devices/persist-1/shadow")["version"] == 3, 10)
        before = self.daemon.get_json("/v1/devices/persist-1/shadow")
        route = self.daemon.add_route("device:persist-1", "shared/p1", "device:persist-2")
        routes_before = self.daemon.get_json("/v1/routes")["routes"]

        code, _ = self.daemon.terminate(20)
        self.assertEqual(code, 0)
        self.daemon.start()
        self.daemon.wait_broker_connected()

        after = self.daemon.get_json("/v1/devices/persist-1/shadow")
        self.assertEqual(after["state"], before["state"])
        self.assertEqual(after["version"], 3)
        self.assertEqual(after["metadata"], before["metadata"])
        self.assertEqual(self.daemon.get_json("/v1/devices/persist-1/shadow?name=cfg")["state"]["desired"], {"c": 1})
        device = self.daemon.device("persist-1")
        self.assertEqual((device["attributes"], device["groups"]), ({"model": "P1"}, ["g"]))
        self.assertEqual(sorted(device["shadows"]), ["", "cfg"])
        self.assertEqual(self.daemon.get_json("/v1/routes")["routes"], routes_before)
        self.assertIn(route["id"], [r["id"] for r in routes_before])
        # The next update continues the version; the device's credentials and grants still work.
        self.assertTrue(dev.wait_connected(5) or dev.connect() == 0)
        self.assertTrue(dev.publish("$aws/things/persist-1/shadow/update",
                                    json.dumps({"state": {"reported": {"i": 3}}, "clientToken": "after"})))
        doc = dev.wait_json("$aws/things/persist-1/shadow/update/accepted", 10,
                            lambda d: d.get("clientToken") == "after")
        self.assertEqual(doc["version"], 4)
        self.assertEqual(other.subscribe("shared/p1"), 1)


class BrokerStateTest(DevicesTestCase):
    """Broker-side trouble: down while a device is added, and its dynsec file lost."""

    def test_device_added_while_broker_is_down_is_pending_then_created(self):
        self.broker.stop()
        wait_for(lambda: self.daemon.metric("gaffer_mqtt_connected") == 0, 10, 0.05, "disconnect")
        result = self.daemon.cli("--json", "device", "add", "pend-1")
        self.addCleanup(self.daemon.cli, "device", "remove", "pend-1")
        self.assertEqual(result.returncode, 0, describe(result))
        added = json.loads(result.stdout)
        self.assertEqual(added["device"]["credentials"], "pending")
        text = self.daemon.cli("device", "show", "pend-1")
        self.assertIn("pending", text.stdout)
        self.broker.start()
        self.daemon.wait_broker_connected()
        wait_for(lambda: self.daemon.device("pend-1")["credentials"] == "active", 10, 0.1,
                 "the pending device to be created on the broker\n" + self.daemon.log_tail())
        self.device_client(added["credentials"])

    def test_broker_that_lost_its_dynsec_file(self):
        creds = self.new_device("lost-1")
        self.new_device("lost-2")
        self.daemon.add_route("device:lost-1", "shared/lost", "device:lost-2")
        self.device_client(creds).close()
        self.broker.stop()
        os.remove(self.broker.dynsec_path)
        subprocess.run([MOSQUITTO_CTRL, "dynsec", "init", self.broker.dynsec_path, self.broker.admin_user,
                        self.broker.admin_password], check=True, capture_output=True)
        try:
            import shutil
            shutil.chown(self.broker.dynsec_path, user="mosquitto")
        except (LookupError, PermissionError):
            pass
        self.broker.start()
        self.daemon.wait_broker_connected()
        wait_for(lambda: self.daemon.device("lost-1")["credentials"] == "missing", 15, 0.1,
                 "lost-1 to be marked missing\n" + self.daemon.log_tail())
        old = self.client("lost-1", "lost-1", creds["password"])
        self.assertNotEqual(old.connect(), 0)
        # gafferd sets itself up again on the new file, which costs it its session once
        # (the FreshStartTest bug); wait that out before rotating.
        time.sleep(0.7)
        self.daemon.wait_broker_connected()
        self.daemon.wait_devices_ready()
        rotated = self.daemon.cli("--json", "device", "credentials", "lost-1")
        self.assertEqual(rotated.returncode, 0, describe(rotated))
        new = json.loads(rotated.stdout)["credentials"]
        self.assertEqual(self.daemon.device("lost-1")["credentials"], "active")
        dev = self.device_client(new)
        # Its role was recreated: own topics and route grants yes, others' topics no.
        self.assertEqual(dev.subscribe("things/lost-1/#"), 1)
        self.assertEqual(dev.subscribe("things/lost-2/#"), NOT_AUTHORIZED)
        lost2 = self.daemon.cli("--json", "device", "credentials", "lost-2")
        b = self.device_client(json.loads(lost2.stdout)["credentials"])
        self.assertEqual(b.subscribe("shared/lost"), 1)
        self.assertTrue(dev.publish("shared/lost", b"again"))
        b.wait_message("shared/lost", 5)


class FreshStartTest(DevicesTestCase):
    """gafferd's first connection to a freshly initialised broker (a new gateway), and the
    first route on a daemon that had none."""

    def fresh(self, name):
        from mosquitto import Broker
        from devices_harness import DeviceDaemon
        broker = Broker(dynsec=True, extra_config="log_dest topic\n", ingest=True)
        self.addCleanup(broker.close)
        broker.start()
        daemon = DeviceDaemon(os.path.join(self.workspace, name), broker,
                              scheduler={"idle_timeout": "5m"})
        self.addCleanup(daemon.cleanup)
        daemon.start()
        daemon.wait_broker_connected()
        return broker, daemon

    def test_message_right_after_route_add_is_routed(self):
        """`gaffer route add` has answered: a device message sent now must reach the task."""
        broker, daemon = self.fresh("first-route")
        time.sleep(0.7)
        daemon.wait_devices_ready()
        result = daemon.cli("--json", "device", "add", "now-1")
        creds = json.loads(result.stdout)["credentials"]
        self.daemon, saved = daemon, self.daemon
        self.addCleanup(setattr, self, "daemon", saved)
        self.add_recorder("nowrec")
        from devices_harness import Client
        dev = Client(broker.port, "now-1", "now-1", creds["password"])
        self.addCleanup(dev.close)
        self.assertEqual(dev.connect(), 0)
        # Each cycle takes the table from no route to one route and back.
        for seq in range(10):
            r = daemon.request("POST", "/v1/routes", {"source": "device:now-1", "filter": "things/now-1/data",
                                                      "target": "task:nowrec"})
            self.assertEqual(r.status, 201, r)
            self.assertTrue(dev.publish("things/now-1/data", json.dumps({"run": "now", "seq": seq})))
            time.sleep(0.2)
            self.assertEqual(daemon.request("DELETE", "/v1/routes/%d" % r.json()["id"]).status, 200)
        try:
            self.wait_events("nowrec", lambda evs: seqs(evs, "now") == set(range(10)), 8,
                             "every message sent right after `route add` answered")
        except AssertionError:
            got = seqs(self.routed_events("nowrec"), "now")
            self.fail("messages published right after `route add` answered were lost: %r of 10 "
                      "(seqs %r missing)" % (10 - len(got), sorted(set(range(10)) - got)))

    @unittest.skip("known gap (issue #3 note): on a broker's first contact mosquitto disconnects gafferd once when its admin client gets the gaffer-core role")
    def test_first_connection_is_stable_and_devices_work_at_once(self):
        broker, daemon = self.fresh("fresh")
        # Connected: a device added now is created on the broker now, not left pending.
        r = daemon.request("POST", "/v1/devices", {"thing": "first-1"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["device"]["credentials"], "active",
                         "the broker was up and gafferd connected, yet: %r\n%s" % (r.json()["device"],
                                                                                 daemon.log_tail()))
        time.sleep(1.0)
        # Setting itself up must not get gafferd thrown off the broker.
        self.assertNotIn("disconnected by administrative action", open(broker.log_path).read(),
                         daemon.log_tail())
