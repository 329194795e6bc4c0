"""Shadows from the CLI and the local API (`gaffer shadow get|update|delete`, /v1/devices/
{thing}/shadow), and bad input that must be refused without a crash or a partial write
(issue #3 "Bad input"; docs/cli.md, docs/api.md, docs/devices.md)."""
import json
import os
import time

from devices_harness import DevicesTestCase, describe, wait_for
from harness import DaemonTestCase


class ShadowCliApiTest(DevicesTestCase):
    devices = {"max_message_bytes": "1K"}
    anchor_route = True

    def test_cli_get_update_delete(self):
        self.new_device("cli-s1")
        missing = self.daemon.cli("shadow", "get", "cli-s1")
        self.assertEqual(missing.returncode, 3, describe(missing))
        self.assertIn("code 404: No shadow exists with name: ", missing.stderr)
        self.assertIn("cli-s1", missing.stderr.split("code 404:")[1])
        self.assertTrue(missing.stderr.startswith("gaffer: "), missing.stderr)

        up = self.daemon.cli("shadow", "update", "cli-s1", '{"state": {"desired": {"on": true}}, "clientToken": "c1"}')
        self.assertEqual(up.returncode, 0, describe(up))
        accepted = json.loads(up.stdout)
        self.assertEqual(accepted["state"], {"desired": {"on": True}})
        self.assertEqual((accepted["version"], accepted["clientToken"]), (1, "c1"))

        path = os.path.join(self.workspace, "desired.json")
        with open(path, "w") as f:
            json.dump({"state": {"reported": {"on": False}}}, f)
        from_file = self.daemon.cli("shadow", "update", "cli-s1", "--file", path)
        self.assertEqual(from_file.returncode, 0, describe(from_file))
        from_stdin = self.daemon.cli("shadow", "update", "cli-s1", "--name", "cfg", "-",
                                     input='{"state": {"desired": {"mode": "eco"}}}')
        self.assertEqual(from_stdin.returncode, 0, describe(from_stdin))
        both = self.daemon.cli("shadow", "update", "cli-s1", "{}", "--file", path)
        self.assertEqual(both.returncode, 1, "exactly one of REQUEST, --file, -: " + describe(both))

        got = self.daemon.cli("--json", "shadow", "get", "cli-s1")
        self.assertEqual(got.returncode, 0, describe(got))
        doc = json.loads(got.stdout)
        self.assertEqual(doc["state"], {"desired": {"on": True}, "reported": {"on": False},
                                        "delta": {"on": True}})
        self.assertEqual(doc["version"], 2)
        pretty = self.daemon.cli("shadow", "get", "cli-s1", "--name", "cfg")
        self.assertEqual(json.loads(pretty.stdout)["state"]["desired"], {"mode": "eco"})

        conflict = self.daemon.cli("shadow", "update", "cli-s1", '{"state": {"desired": {"on": false}}, "version": 1}')
        self.assertEqual(conflict.returncode, 8, describe(conflict))
        self.assertIn("code 409: Version conflict", conflict.stderr)
        bad = self.daemon.cli("shadow", "update", "cli-s1", '{"desired": {}}')
        self.assertEqual(bad.returncode, 4, describe(bad))
        self.assertIn("code 400: Missing required node: state", bad.stderr)
        big = self.daemon.cli("shadow", "update", "cli-s1", json.dumps({"state": {"desired": {"b": "x" * 9000}}}))
        self.assertEqual(big.returncode, 4, describe(big))
        self.assertIn("code 413", big.stderr)
        notjson = self.daemon.cli("shadow", "update", "cli-s1", "{oops")
        self.assertEqual(notjson.returncode, 4, describe(notjson))

        deleted = self.daemon.cli("shadow", "delete", "cli-s1", "--name", "cfg")
        self.assertEqual(deleted.returncode, 0, describe(deleted))
        self.assertIn('deleted shadow "cfg" of cli-s1 (version 1)', deleted.stdout)
        deleted = self.daemon.cli("shadow", "delete", "cli-s1")
        self.assertIn("deleted the classic shadow of cli-s1 (version 2)", deleted.stdout)
        again = self.daemon.cli("shadow", "delete", "cli-s1")
        self.assertEqual(again.returncode, 3, describe(again))

    def test_unknown_thing_and_bad_names(self):
        for method, body in (("GET", None), ("POST", {"state": {"desired": {"a": 1}}}), ("DELETE", None)):
            r = self.daemon.request(method, "/v1/devices/ghost-9/shadow", body)
            self.assertEqual(r.status, 404, r)
            doc = r.json()
            self.assertEqual((doc["code"], doc["message"]), (404, "Thing not found"), doc)
        cli = self.daemon.cli("shadow", "update", "ghost-9", '{"state": {"desired": {"a": 1}}}')
        self.assertEqual(cli.returncode, 3, describe(cli))
        self.assertIn("Thing not found", cli.stderr)
        self.new_device("name-1")
        for target in ("/v1/devices/name-1/shadow?name=", "/v1/devices/name-1/shadow?name=" + "n" * 65,
                       "/v1/devices/name-1/shadow?name=a%2Fb", "/v1/devices/bad%24name/shadow"):
            r = self.daemon.request("GET", target)
            self.assertEqual(r.status, 400, "%s: %r" % (target, r))
            self.assertEqual(r.json().get("error"), "invalid", r)
        r = self.daemon.request("POST", "/v1/devices/name-1/shadow", "{not json")
        self.assertEqual(r.status, 400, r)
        r = self.daemon.request("GET", "/v1/devices/name-1/shadow?name=" + "n" * 64)
        self.assertEqual(r.status, 404, r)

    def test_api_update_publishes_to_devices(self):
        creds = self.new_device("api-s1")
        dev = self.device_client(creds)
        self.assertEqual(dev.subscribe("$aws/things/api-s1/shadow/#"), 1)
        r = self.daemon.request("POST", "/v1/devices/api-s1/shadow",
                                {"state": {"desired": {"t": 21}}, "clientToken": "api"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["clientToken"], "api")
        delta = dev.wait_json("$aws/things/api-s1/shadow/update/delta", 5)
        self.assertEqual(delta["state"], {"t": 21})
        dev.wait_json("$aws/things/api-s1/shadow/update/accepted", 5)
        # A refused API request publishes no rejection to the device (AWS's REST behaviour).
        r = self.daemon.request("POST", "/v1/devices/api-s1/shadow", {"state": {"desired": {"t": 1}}, "version": 9})
        self.assertEqual(r.status, 409, r)
        time.sleep(0.3)
        self.assertEqual(dev.received("$aws/things/api-s1/shadow/update/rejected"), [])

    def test_oversized_device_message_is_refused_and_counted(self):
        dev = self.device_client(self.new_device("big-1"))
        self.add_recorder("bigrec")
        route = self.daemon.add_route("device:big-1", "things/big-1/data", "task:bigrec")
        self.addCleanup(self.daemon.cli, "route", "remove", str(route["id"]))
        before = self.daemon.metric_sum("gaffer_mqtt_messages_refused_total")
        self.assertTrue(dev.publish("things/big-1/data", json.dumps({"big": "x" * 2000, "mark": "too-big"})))
        wait_for(lambda: self.daemon.metric_sum("gaffer_mqtt_messages_refused_total") > before, 10, 0.1,
                 "the refusal to be counted in gaffer_mqtt_messages_refused_total\n" + self.daemon.log_tail())
        self.assertTrue(dev.publish("things/big-1/data", json.dumps({"mark": "small"})))
        self.wait_events("bigrec", lambda evs: [e for e in evs if e["payload"].get("mark") == "small"], 20)
        self.assertEqual([e for e in self.routed_events("bigrec") if "too-big" in json.dumps(e)], [])
        self.assertTrue(self.daemon.running())

    def test_message_for_an_unknown_task_is_refused_and_counted(self):
        dev = self.device_client(self.new_device("orphan-1"))
        route = self.daemon.add_route("device:orphan-1", "things/orphan-1/x", "task:no-such-task")
        self.addCleanup(self.daemon.cli, "route", "remove", str(route["id"]))
        before = self.daemon.metric_sum("gaffer_mqtt_messages_refused_total")
        self.assertTrue(dev.publish("things/orphan-1/x", b"{}"))
        wait_for(lambda: self.daemon.metric_sum("gaffer_mqtt_messages_refused_total") > before, 10, 0.1,
                 "the refusal to be counted")
        self.assertTrue(self.daemon.running())

    def test_garbage_on_shadow_topics_never_crashes(self):
        dev = self.device_client(self.new_device("junk-1"))
        self.assertEqual(dev.subscribe("$aws/things/junk-1/shadow/#"), 1)
        junk = [b"", b"\xff\xfe\x00", b"null", b"[]", b"123", b'"s"', b"{" * 5000, b'{"state":' * 2000,
                b'{"state": {"desired": {"a": 1}}, "version": -1}',
                b'{"state": {"desired": {"\xff": 1}}}']
        for body in junk:
            dev.publish("$aws/things/junk-1/shadow/update", body)
        for topic in ("$aws/things/junk-1/shadow/update/accepted", "$aws/things/junk-1/shadow/bogus",
                      "$aws/things/junk-1/shadow/name//update", "$aws/things/junk-1/shadow/name/" + "n" * 70 + "/get"):
            dev.publish(topic, b'{"state": {"desired": {"x": 1}}}')
        self.assertTrue(dev.publish("$aws/things/junk-1/shadow/update",
                                    json.dumps({"state": {"reported": {"ok": 1}}, "clientToken": "final"})))
        dev.wait_json("$aws/things/junk-1/shadow/update/accepted", 10, lambda d: d.get("clientToken") == "final")
        self.assertTrue(self.daemon.running())
        rejected = [json.loads(b) for _, b, _, _ in dev.received("$aws/things/junk-1/shadow/update/rejected")]
        self.assertGreaterEqual(len(rejected), 7, rejected)
        for doc in rejected:
            self.assertIn(doc["code"], (400, 409, 413, 415), doc)
        got = self.daemon.get_json("/v1/devices/junk-1/shadow")
        self.assertEqual(got["state"], {"reported": {"ok": 1}}, "only the valid update was written")
        self.assertEqual(got["version"], 1)


class DevicesDisabledTest(DaemonTestCase):
    """A daemon without [broker]: the device commands say so and exit 8."""

    def test_device_commands_without_a_broker(self):
        plain = self.daemon
        for args in (("device", "list"), ("shadow", "get", "x"), ("route", "list")):
            result = plain.cli(*args)
            self.assertEqual(result.returncode, 8, describe(result))
            self.assertIn("devices are not enabled: configure [broker] in gaffer.toml", result.stderr)
        r = plain.request("GET", "/v1/devices")
        self.assertEqual(r.status, 503, r)
