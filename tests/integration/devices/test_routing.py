"""The routing table end to end (issue #3 "Routing table"; docs/devices.md "Routes";
docs/task-devices-api.md): device messages invoke tasks, tasks publish to devices through
the runtime API extension, default deny, MQTT filter matching, and `gaffer route`."""
import base64
import json
import time
import uuid

from devices_harness import NOT_AUTHORIZED, DevicesTestCase, describe, settle


class RoutingTest(DevicesTestCase):
    anchor_route = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemon_task_rec = None

    def setUp(self):
        self.routes = []

    def tearDown(self):
        for route_id in self.routes:
            self.daemon.cli("route", "remove", str(route_id))

    def route(self, source, topic_filter, target):
        added = self.daemon.add_route(source, topic_filter, target)
        self.routes.append(added["id"])
        return added

    def marker(self):
        return uuid.uuid4().hex[:12]

    def with_marker(self, task, mark, timeout=15):
        return self.wait_events(task, lambda evs: [e for e in evs if mark in json.dumps(e)],
                                timeout, "an event with marker %s in task %s" % (mark, task))

    # -- device -> task ------------------------------------------------------------------

    def test_device_message_invokes_task_and_reply_reaches_device(self):
        """The issue's required test: a routed device message invokes a task, and the task's
        reply reaches the device."""
        creds = self.new_device("therm-1")
        dev = self.device_client(creds)
        self.add_recorder("controller")
        self.route("device:therm-1", "things/therm-1/telemetry", "task:controller")
        self.route("task:controller", "things/therm-1/commands", "device:therm-1")
        self.assertEqual(dev.subscribe("things/therm-1/commands"), 1)
        mark = self.marker()
        payload = {"temperature": 19.5, "mark": mark, "reply_to": "things/therm-1/commands"}
        self.assertTrue(dev.publish("things/therm-1/telemetry", json.dumps(payload), qos=1))
        reply = dev.wait_json("things/therm-1/commands", 20, what="the task's reply\n" + self.daemon.log_tail())
        # The reply is the event the task got: the documented event shape.
        self.assertEqual(reply, {"topic": "things/therm-1/telemetry", "payload": payload,
                                 "payload_encoding": "json", "qos": 1, "source": "device"})
        self.assertEqual(dev.wait_message("things/therm-1/commands")[2], 1, "published at QoS 1")
        metrics = self.daemon.metrics()
        self.assertGreaterEqual(metrics.get("gaffer_mqtt_messages_received_total", 0), 1)
        self.assertGreaterEqual(metrics.get("gaffer_mqtt_messages_routed_total", 0), 1)

    def test_thermostat_example_end_to_end(self):
        """examples/thermostat-controller as shipped: telemetry in, shadow read, command out."""
        creds = self.new_device("thermostat-9")
        dev = self.device_client(creds)
        with open(self.examples_path("thermostat-controller/manifest.json")) as f:
            manifest = json.load(f)
        manifest["artifact_dir"] = self.examples_path("hello-python")
        self.daemon.add_task(manifest)
        self.route("device:thermostat-9", "things/thermostat-9/telemetry", "task:thermostat-controller")
        self.route("task:thermostat-controller", "things/thermostat-9/commands", "device:thermostat-9")
        r = self.daemon.request("POST", "/v1/devices/thermostat-9/shadow",
                                {"state": {"desired": {"temperature": 21}}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(dev.subscribe("things/thermostat-9/commands"), 1)
        self.assertTrue(dev.publish("things/thermostat-9/telemetry", json.dumps({"temperature": 19.5})))
        command = dev.wait_json("things/thermostat-9/commands", 20,
                                what="the controller's command\n" + self.daemon.log_tail())
        self.assertEqual(command, {"heating": "on", "target": 21.0})

    def examples_path(self, relative):
        import os
        from devices_harness import EXAMPLES
        return os.path.join(EXAMPLES, relative)

    def test_binary_payload_is_base64_and_qos0_is_reported(self):
        dev = self.device_client(self.new_device("bin-1"))
        self.add_recorder("binrec")
        self.route("device:bin-1", "things/bin-1/raw", "task:binrec")
        mark = self.marker().encode()
        raw = b"\x00\xff\xfe" + mark + b"\x80"
        self.assertTrue(dev.publish("things/bin-1/raw", raw, qos=1))
        events = self.wait_events("binrec", lambda evs: [e for e in evs if e.get("payload_encoding") == "base64"
                                                         and base64.b64decode(e["payload"]) == raw], 20,
                                  "the base64 event")
        event = [e for e in events if e.get("payload_encoding") == "base64"][-1]
        self.assertEqual(event["topic"], "things/bin-1/raw")
        self.assertEqual(event["qos"], 1)
        self.assertEqual(event["source"], "device")
        text_mark = self.marker()
        dev.publish("things/bin-1/raw", "plain text " + text_mark, qos=0)
        # Not JSON, so base64 even though it is text.
        events = self.wait_events("binrec", lambda evs: [e for e in evs if e.get("payload_encoding") == "base64"
                                                         and text_mark.encode() in base64.b64decode(e["payload"])],
                                  20, "the text event")
        event = [e for e in events if e.get("payload_encoding") == "base64"
                 and text_mark.encode() in base64.b64decode(e["payload"])]
        self.assertEqual(base64.b64decode(event[0]["payload"]), ("plain text " + text_mark).encode())
        self.assertEqual(event[0]["qos"], 0)

    def test_default_deny_and_route_removal(self):
        dev = self.device_client(self.new_device("deny-1"))
        self.add_recorder("denyrec")
        before = self.marker()
        dev.publish("things/deny-1/telemetry", json.dumps({"mark": before}))
        route = self.route("device:deny-1", "things/deny-1/telemetry", "task:denyrec")
        during = self.marker()
        dev.publish("things/deny-1/telemetry", json.dumps({"mark": during}))
        self.with_marker("denyrec", during)
        self.daemon.remove_route(route["id"])
        self.routes.remove(route["id"])
        after = self.marker()
        dev.publish("things/deny-1/telemetry", json.dumps({"mark": after}))
        time.sleep(1.0)
        seen = json.dumps(self.routed_events("denyrec"))
        self.assertNotIn(before, seen, "routed before the route existed")
        self.assertNotIn(after, seen, "routed after the route was removed")

    def test_spoofed_topic_from_another_device_does_not_invoke(self):
        """A message on B's routed topic that A publishes is dropped by the broker (A has no
        grant there), so it cannot invoke B's task."""
        a = self.device_client(self.new_device("spoof-a"))
        b = self.device_client(self.new_device("spoof-b"))
        self.add_recorder("spoofrec")
        self.route("device:spoof-b", "things/spoof-b/telemetry", "task:spoofrec")
        spoofed = self.marker()
        a.publish("things/spoof-b/telemetry", json.dumps({"mark": spoofed}))
        genuine = self.marker()
        b.publish("things/spoof-b/telemetry", json.dumps({"mark": genuine}))
        self.with_marker("spoofrec", genuine)
        time.sleep(0.5)
        self.assertNotIn(spoofed, json.dumps(self.routed_events("spoofrec")))

    def test_filters_match_by_mqtt_rules(self):
        dev = self.device_client(self.new_device("match-1"))
        self.add_recorder("matchrec")
        self.route("device:match-1", "things/match-1/s/+/t", "task:matchrec")
        self.route("device:match-1", "things/match-1/m/#", "task:matchrec")
        cases = {  # topic -> routed?
            "things/match-1/s/x/t": True,
            "things/match-1/s//t": True,            # '+' matches an empty level
            "things/match-1/s/x/y/t": False,
            "things/match-1/s/x/t/": False,
            "things/match-1/s/x": False,
            "things/match-1/m": True,               # '#' includes the parent level
            "things/match-1/m/a/b/c": True,
            "things/match-1/m/": True,
            "things/match-1/mm": False,
            "things/match-1/S/x/t": False,          # case-sensitive
        }
        marks = {}
        for topic in cases:
            marks[topic] = self.marker()
            self.assertTrue(dev.publish(topic, json.dumps({"mark": marks[topic]})), topic)
        wanted = [marks[t] for t, routed in cases.items() if routed]
        self.wait_events("matchrec", lambda evs: all(m in json.dumps(evs) for m in wanted), 20,
                         "every matching topic to be routed")
        time.sleep(0.5)
        events = self.routed_events("matchrec")
        for topic, routed in cases.items():
            got = [e for e in events if marks[topic] in json.dumps(e)]
            if routed:
                self.assertEqual(len(got), 1, "%s should be routed once: %r" % (topic, got))
                self.assertEqual(got[0]["topic"], topic)
            else:
                self.assertEqual(got, [], "%s must not match" % topic)

    def test_one_message_goes_to_every_matching_route(self):
        dev = self.device_client(self.new_device("fan-1"))
        self.add_recorder("fan-a")
        self.add_recorder("fan-b")
        self.route("device:fan-1", "things/fan-1/#", "task:fan-a")
        self.route("device:fan-1", "things/fan-1/+/x", "task:fan-b")
        mark = self.marker()
        dev.publish("things/fan-1/y/x", json.dumps({"mark": mark}))
        self.with_marker("fan-a", mark)
        self.with_marker("fan-b", mark)

    def test_wildcards_do_not_match_dollar_topics_at_the_first_level(self):
        dev = self.device_client(self.new_device("dollar-1"))
        self.assertEqual(dev.subscribe("$aws/things/dollar-1/shadow/#"), 1)
        self.add_recorder("dollarrec")
        self.route("device:dollar-1", "#", "task:dollarrec")
        self.route("device:dollar-1", "+/things/dollar-1/shadow/update", "task:dollarrec")
        time.sleep(0.3)  # the publish grant on any/topic lands after `route add` answers (test_acl)
        shadow_mark = self.marker()
        self.assertTrue(dev.publish("$aws/things/dollar-1/shadow/update",
                                    json.dumps({"state": {"reported": {"mark": shadow_mark}}})))
        dev.wait_json("$aws/things/dollar-1/shadow/update/accepted", 10)
        plain = self.marker()
        self.assertTrue(dev.publish("any/topic", json.dumps({"mark": plain})))
        self.with_marker("dollarrec", plain)
        time.sleep(0.5)
        self.assertNotIn(shadow_mark, json.dumps(self.routed_events("dollarrec")),
                         "'#' and '+' must not match a topic that starts with '$'")

    def test_shadow_to_device_route_lets_a_device_read_another_shadow(self):
        self.new_device("watched-1")
        watcher = self.device_client(self.new_device("watcher-1"))
        documents = "$aws/things/watched-1/shadow/update/documents"
        self.assertEqual(watcher.subscribe(documents), NOT_AUTHORIZED)
        self.route("shadow", documents, "device:watcher-1")
        self.assertEqual(settle(watcher, documents, 1), 1)
        self.assertEqual(watcher.subscribe("$aws/things/watched-1/shadow/update/delta"), NOT_AUTHORIZED)
        r = self.daemon.request("POST", "/v1/devices/watched-1/shadow", {"state": {"reported": {"t": 7}}})
        self.assertEqual(r.status, 200, r)
        doc = watcher.wait_json(documents, 10)
        self.assertEqual(doc["current"]["state"], {"reported": {"t": 7}})
        # It may read, not write: the watcher cannot update the watched shadow.
        watcher.publish("$aws/things/watched-1/shadow/update", json.dumps({"state": {"reported": {"t": 0}}}))
        time.sleep(0.4)
        self.assertEqual(self.daemon.get_json("/v1/devices/watched-1/shadow")["state"]["reported"], {"t": 7})

    # -- task -> device, through the runtime API extension ------------------------------

    def test_task_publish_answers(self):
        dev = self.device_client(self.new_device("pub-1"))
        self.add_recorder("pubtask")
        self.route("task:pubtask", "alerts/pub-1/#", "device:pub-1")
        self.assertEqual(settle(dev, "alerts/pub-1/#", 1), 1, "the route grants the device subscribe")
        self.assertEqual(dev.subscribe("alerts/#"), NOT_AUTHORIZED)
        answers = self.run_actions("pubtask", [
            {"op": "publish", "topic": "alerts/pub-1/fire", "qos": 1, "payload": {"level": 3}},
            {"op": "publish", "topic": "alerts/pub-1/smoke", "qos": 0, "payload": "raw text"},
            {"op": "publish", "topic": "alerts/other/fire", "qos": 1, "payload": "x"},
            {"op": "publish", "topic": "things/pub-1/x", "qos": 1, "payload": "x"},
            {"op": "publish", "topic": "alerts/pub-1/+", "qos": 1, "payload": "x"},
            {"op": "publish", "topic": "alerts/pub-1/#", "qos": 1, "payload": "x"},
            {"op": "publish", "query": "topic=alerts%2Fpub-1%2Fq&qos=2", "payload": "x"},
            {"op": "publish", "query": "qos=1", "payload": "x"},
        ])
        statuses = [a["status"] for a in answers]
        self.assertEqual(statuses, [202, 202, 403, 403, 400, 400, 400, 400], answers)
        self.assertEqual(json.loads(answers[0]["body"])["topic"], "alerts/pub-1/fire")
        self.assertEqual(json.loads(answers[6]["body"])["error"], "invalid")
        fire = dev.wait_message("alerts/pub-1/fire", 10)
        self.assertEqual(json.loads(fire[1]), {"level": 3})
        self.assertEqual(fire[2], 1)
        self.assertEqual(dev.wait_message("alerts/pub-1/smoke", 10)[1], b"raw text")
        time.sleep(0.3)
        self.assertEqual(dev.received("alerts/other/fire"), [])
        self.assertEqual(dev.received("things/pub-1/x"), [])

    def test_task_to_task_route_invokes_the_other_task(self):
        self.add_recorder("t2t-src")
        self.add_recorder("t2t-dst")
        self.route("task:t2t-src", "pipeline/stage2", "task:t2t-dst")
        mark = self.marker()
        answers = self.run_actions("t2t-src", [
            {"op": "publish", "topic": "pipeline/stage2", "qos": 1, "payload": {"mark": mark}}])
        self.assertEqual(answers[0]["status"], 202, answers)
        event = self.with_marker("t2t-dst", mark)[-1]
        self.assertEqual(event["topic"], "pipeline/stage2")
        self.assertEqual(event["payload"], {"mark": mark})
        # Not the other way round: t2t-dst has no route.
        back = self.run_actions("t2t-dst", [{"op": "publish", "topic": "pipeline/stage2", "payload": "x"}])
        self.assertEqual(back[0]["status"], 403, back)

    def test_task_reads_and_updates_shadows(self):
        self.new_device("tsh-1")
        dev = self.device_client(self.new_device("tsh-2"))
        self.assertEqual(dev.subscribe("$aws/things/tsh-2/shadow/#"), 1)
        self.add_recorder("shadowtask")
        answers = self.run_actions("shadowtask", [
            {"op": "shadow_get", "thing": "tsh-1"},
            {"op": "shadow_update", "thing": "tsh-1", "request": {"state": {"desired": {"on": True}},
                                                                  "clientToken": "from-task"}},
            {"op": "shadow_get", "thing": "tsh-1"},
            {"op": "shadow_update", "thing": "tsh-1", "name": "cfg", "request": {"state": {"reported": {"v": 1}}}},
            {"op": "shadow_update", "thing": "tsh-1", "request": {"state": {"desired": {"on": False}}, "version": 7}},
            {"op": "shadow_update", "thing": "tsh-1", "request": {"nostate": 1}},
            {"op": "shadow_get", "thing": "ghost-thing"},
            {"op": "shadow_get", "thing": "bad/name"},
            {"op": "shadow_delete", "thing": "tsh-1", "name": "cfg"},
            {"op": "shadow_update", "thing": "tsh-2", "request": {"state": {"desired": {"mode": "eco"}}}},
        ])
        statuses = [a["status"] for a in answers]
        self.assertEqual(statuses[:7], [404, 200, 200, 200, 409, 400, 404], answers)
        self.assertIn(statuses[7], (400, 404), answers)
        self.assertEqual(statuses[8:], [200, 200], answers)
        docs = [json.loads(a["body"]) if a["body"] else None for a in answers]
        self.assertEqual(docs[0]["code"], 404)
        self.assertEqual(docs[1]["clientToken"], "from-task")
        self.assertEqual(docs[1]["version"], 1)
        self.assertEqual(docs[2]["state"]["desired"], {"on": True})
        self.assertEqual(docs[4], {"code": 409, "message": "Version conflict", "timestamp": docs[4]["timestamp"]})
        self.assertEqual(docs[5]["message"], "Missing required node: state")
        self.assertEqual(docs[6]["message"], "Thing not found")
        self.assertEqual(docs[8]["version"], 1)
        # What a task changes, the device hears about (accepted and delta on its topics).
        delta = dev.wait_json("$aws/things/tsh-2/shadow/update/delta", 10)
        self.assertEqual(delta["state"], {"mode": "eco"})

    def test_task_shadow_requests_over_routes(self):
        """task -> shadow and shadow -> task routes: a task's publication on a shadow request
        topic is handled by the shadow service, and the answer comes back as an invocation."""
        self.new_device("rsh-1")
        self.add_recorder("rshtask")
        self.route("task:rshtask", "$aws/things/+/shadow/#", "shadow")
        self.route("shadow", "$aws/things/+/shadow/#", "task:rshtask")
        answers = self.run_actions("rshtask", [
            {"op": "publish", "topic": "$aws/things/rsh-1/shadow/update", "qos": 1,
             "payload": {"state": {"reported": {"via": "route"}}, "clientToken": "rt-1"}},
            {"op": "publish", "topic": "$aws/things/ghost-2/shadow/get", "qos": 1,
             "payload": {"clientToken": "rt-2"}},
        ])
        self.assertEqual([a["status"] for a in answers], [202, 202], answers)
        accepted = self.wait_events("rshtask", lambda evs: [e for e in evs if e["topic"]
                                    == "$aws/things/rsh-1/shadow/update/accepted"], 15, "update/accepted")
        self.assertEqual([e for e in accepted if e["topic"].endswith("update/accepted")][0]["payload"]["clientToken"],
                         "rt-1")
        rejected = self.wait_events("rshtask", lambda evs: [e for e in evs if e["topic"]
                                    == "$aws/things/ghost-2/shadow/get/rejected"], 15, "get/rejected")
        doc = [e for e in rejected if e["topic"] == "$aws/things/ghost-2/shadow/get/rejected"][0]["payload"]
        self.assertEqual((doc["code"], doc["message"]), (404, "Thing not found"))
        r = self.daemon.request("GET", "/v1/devices/rsh-1/shadow")
        self.assertEqual(r.json()["state"]["reported"], {"via": "route"})

    # -- the route commands ---------------------------------------------------------------

    def test_route_commands(self):
        self.new_device("cli-r1")
        result = self.daemon.cli("route", "add", "device:cli-r1", "things/cli-r1/#", "task:ingest")
        self.assertEqual(result.returncode, 0, describe(result))
        route_id = int(result.stdout.split()[2].rstrip(":"))
        self.routes.append(route_id)
        self.assertIn("added route %d: device:cli-r1 -> task:ingest on things/cli-r1/#" % route_id, result.stdout)
        listed = self.daemon.cli("route", "list")
        self.assertEqual(listed.stdout.splitlines()[0].split(), ["ID", "SOURCE", "FILTER", "TARGET", "CREATED"])
        self.assertIn("things/cli-r1/#", listed.stdout)
        dup = self.daemon.cli("route", "add", "device:cli-r1", "things/cli-r1/#", "task:ingest")
        self.assertEqual(dup.returncode, 8, "the same route exists (409): " + describe(dup))
        for source, filt, target in (
                ("device:cli-r1", "things/cli-r1/#", "cloud"),         # cloud arrives later
                ("device:cli-r1", "things/#/x", "task:ingest"),        # '#' not last
                ("device:cli-r1", "things/a+/x", "task:ingest"),       # '+' not a whole level
                ("device:cli-r1", "$SYS/#", "task:ingest"),            # '$' only for shadow routes
                ("shadow", "things/x", "task:ingest"),                 # shadow routes under $aws/things/
                ("device:bad/name", "x", "task:ingest"),
                ("gadget:x", "x", "task:ingest"),
                ("device:cli-r1", "", "task:ingest")):
            bad = self.daemon.cli("route", "add", source, filt, target)
            self.assertEqual(bad.returncode, 4, "%s %s %s: %s" % (source, filt, target, describe(bad)))
        cloud = self.daemon.request("POST", "/v1/routes", {"source": "device:cli-r1", "filter": "x",
                                                            "target": "cloud"})
        self.assertEqual(cloud.status, 400)
        self.assertIn("cloud routes arrive with cloud sync", cloud.text)
        removed = self.daemon.cli("route", "remove", str(route_id))
        self.assertEqual(removed.returncode, 0, describe(removed))
        self.assertIn("removed route %d" % route_id, removed.stdout)
        self.routes.remove(route_id)
        self.assertEqual(self.daemon.cli("route", "remove", str(route_id)).returncode, 3)
        self.assertEqual(self.daemon.cli("route", "remove", "zero").returncode, 1)
