"""The device registry end to end: `gaffer device add|list|show|remove|credentials`, the
broker credentials they create (client id == username == thing name), presence, and
revocation at once (issue #3, docs/devices.md "Registry and credentials", docs/cli.md)."""
import json
import time

from devices_harness import DevicesTestCase, describe, wait_for


class RegistryTest(DevicesTestCase):

    def test_add_prints_credentials_that_connect(self):
        result = self.daemon.cli("device", "add", "sensor-1", "--attribute", "room=lab",
                                 "--attribute", "model=T100", "--group", "floor-2")
        self.addCleanup(self.daemon.cli, "device", "remove", "sensor-1")
        self.assertEqual(result.returncode, 0, describe(result) + self.daemon.log_tail())
        out = result.stdout
        self.assertIn("created device sensor-1", out)
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        self.assertEqual(fields.get("thing"), "sensor-1", out)
        self.assertEqual(fields.get("username"), "sensor-1", out)
        self.assertEqual(fields.get("client id"), "sensor-1", out)
        password = fields.get("password")
        self.assertTrue(password and len(password) >= 12, "a real password: %r" % out)
        self.assertEqual(fields.get("broker"), self.broker.uri, out)

        # The printed credentials connect; the password is nowhere in the daemon's answers.
        c = self.client("sensor-1", "sensor-1", password)
        self.assertEqual(c.connect(), 0, self.broker.log()[-1500:])
        shown = self.daemon.cli("--json", "device", "show", "sensor-1")
        self.assertEqual(shown.returncode, 0, describe(shown))
        self.assertNotIn(password, shown.stdout)
        listed = self.daemon.cli("--json", "device", "list")
        self.assertNotIn(password, listed.stdout)
        self.assertNotIn(password, self.daemon.log_text(), "the password must not be logged")

        device = json.loads(shown.stdout)
        device = device.get("device", device)
        self.assertEqual(device["thing"], "sensor-1")
        self.assertEqual(device["attributes"], {"room": "lab", "model": "T100"})
        self.assertEqual(device["groups"], ["floor-2"])
        self.assertEqual(device["credentials"], "active")
        self.assertEqual(device["shadows"], [])
        self.assertLess(abs(device["created_at_ms"] / 1000 - time.time()), 60, device)

    def test_wrong_client_id_or_password_is_refused(self):
        creds = self.new_device("lock-1")
        other = self.client("not-lock-1", "lock-1", creds["password"])
        self.assertNotEqual(other.connect(), 0, "another client id with lock-1's credentials")
        wrong = self.client("lock-1", "lock-1", creds["password"] + "x")
        self.assertNotEqual(wrong.connect(), 0, "a wrong password")
        nobody = self.client("ghost-1", "ghost-1", creds["password"])
        self.assertNotEqual(nobody.connect(), 0, "an unregistered username")
        self.device_client(creds)

    def test_list_and_show_follow_the_docs(self):
        self.new_device("list-b", "--group", "g1", "--group", "g2")
        self.new_device("list-a")
        self.new_device("list-c", "--attribute", "k=v")
        result = self.daemon.cli("device", "list")
        self.assertEqual(result.returncode, 0, describe(result))
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["THING", "CONNECTED", "CREDENTIALS", "GROUPS", "SHADOWS",
                                            "CREATED"], result.stdout)
        things = [line.split()[0] for line in lines[1:] if line.strip()]
        mine = [t for t in things if t.startswith("list-")]
        self.assertEqual(mine, ["list-a", "list-b", "list-c"], "ordered by thing name")

        # Paging (API and CLI): limit and after, `next` for the following page.
        page = self.daemon.get_json("/v1/devices?limit=1&after=list-a")
        self.assertEqual([d["thing"] for d in page["devices"]], ["list-b"])
        self.assertEqual(page["next"], "list-b")
        self.assertEqual(page["devices"][0]["groups"], ["g1", "g2"])
        paged = self.daemon.cli("device", "list", "--after", "list-a", "--limit", "1")
        self.assertEqual(paged.returncode, 0, describe(paged))
        self.assertIn("list-b", paged.stdout)
        self.assertNotIn("list-c", paged.stdout)
        self.assertIn("more devices follow: gaffer device list --after list-b", paged.stderr)

        shown = self.daemon.cli("device", "show", "list-c")
        self.assertEqual(shown.returncode, 0, describe(shown))
        self.assertIn("k", shown.stdout)
        self.assertIn("connected: no", " ".join(shown.stdout.split()))
        missing = self.daemon.cli("device", "show", "list-zzz")
        self.assertEqual(missing.returncode, 3, describe(missing))

    def test_usage_and_conflict_errors(self):
        self.new_device("dup-1")
        again = self.daemon.cli("device", "add", "dup-1")
        self.assertEqual(again.returncode, 8, "a device of that name exists: " + describe(again))
        bad_attr = self.daemon.cli("device", "add", "dup-2", "--attribute", "novalue")
        self.assertEqual(bad_attr.returncode, 1, describe(bad_attr))
        twice = self.daemon.cli("device", "add", "dup-2", "--attribute", "a=1", "--attribute", "a=2")
        self.assertEqual(twice.returncode, 1, describe(twice))
        for bad in ("bad/name", "a" * 129, "has space", "$aws", "x+y", "x#"):
            r = self.daemon.request("POST", "/v1/devices", {"thing": bad})
            self.assertEqual(r.status, 400, "thing %r: %r" % (bad, r))
        r = self.daemon.request("POST", "/v1/devices", {"thing": "a" * 128})
        self.assertEqual(r.status, 201, r)
        self.addCleanup(self.daemon.cli, "device", "remove", "a" * 128)
        r = self.daemon.request("POST", "/v1/devices", {"thing": "typo-1", "atributes": {}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("attributes", r.text)
        self.assertIsNone(self.daemon.device("dup-2"))
        self.assertIsNone(self.daemon.device("typo-1"))

    def test_rotate_credentials_old_password_stops_working(self):
        creds = self.new_device("rot-1")
        first = self.device_client(creds)
        first.close()
        result = self.daemon.cli("--json", "device", "credentials", "rot-1")
        self.assertEqual(result.returncode, 0, describe(result))
        new = json.loads(result.stdout)["credentials"]
        self.assertNotEqual(new["password"], creds["password"])
        old = self.client("rot-1", "rot-1", creds["password"])
        self.assertNotEqual(old.connect(), 0, "the old password must stop working at once")
        self.device_client(new)
        text = self.daemon.cli("device", "credentials", "rot-1")
        self.assertEqual(text.returncode, 0, describe(text))
        self.assertIn("rotated the credentials of rot-1: the old password no longer works", text.stdout)
        missing = self.daemon.cli("device", "credentials", "rot-zzz")
        self.assertEqual(missing.returncode, 3, describe(missing))

    def test_remove_disconnects_at_once_and_revokes(self):
        creds = self.new_device("gone-1")
        c = self.device_client(creds)
        self.assertEqual(c.subscribe("things/gone-1/#"), 1)
        # A shadow, so that removal has something to take with it.
        r = self.daemon.request("POST", "/v1/devices/gone-1/shadow", {"state": {"reported": {"x": 1}}})
        self.assertEqual(r.status, 200, r)
        started = time.monotonic()
        result = self.daemon.cli("device", "remove", "gone-1")
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertIn("removed device gone-1 (its credentials and shadows are gone)", result.stdout)
        self.assertTrue(c.wait_disconnected(5), "the removed device stays connected")
        self.assertLess(time.monotonic() - started, 5)
        again = self.client("gone-1", "gone-1", creds["password"])
        self.assertNotEqual(again.connect(), 0, "a removed device can connect again")
        self.assertEqual(self.daemon.cli("device", "show", "gone-1").returncode, 3)
        r = self.daemon.request("GET", "/v1/devices/gone-1/shadow")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.daemon.cli("device", "remove", "gone-1").returncode, 3)
        # Re-adding the name starts clean: no shadow from before.
        self.new_device("gone-1")
        self.assertEqual(self.daemon.device("gone-1")["shadows"], [])
        r = self.daemon.request("GET", "/v1/devices/gone-1/shadow")
        self.assertEqual(r.status, 404, r)

    def test_presence_connected_and_disconnected(self):
        creds = self.new_device("here-1")
        self.assertFalse(self.daemon.device("here-1")["connected"])
        before = self.daemon.metric("gaffer_devices_connected", 0)
        c = self.device_client(creds)
        wait_for(lambda: self.daemon.device("here-1")["connected"], 5, 0.05,
                 "here-1 to show as connected\n" + self.daemon.log_tail())
        since = self.daemon.device("here-1")["presence_changed_at_ms"]
        self.assertLess(abs(since / 1000 - time.time()), 30)
        wait_for(lambda: self.daemon.metric("gaffer_devices_connected") == before + 1, 3, 0.05,
                 "gaffer_devices_connected to count here-1 (now %r)"
                 % self.daemon.metric("gaffer_devices_connected"))
        shown = self.daemon.cli("device", "show", "here-1")
        self.assertIn("connected: yes", " ".join(shown.stdout.split()), shown.stdout)
        c.close()
        wait_for(lambda: not self.daemon.device("here-1")["connected"], 5, 0.05,
                 "here-1 to show as disconnected")
        wait_for(lambda: self.daemon.metric("gaffer_devices_connected") == before, 3, 0.05,
                 "gaffer_devices_connected to drop back")
        # A client that fails to authenticate as here-1 is not presence.
        bad = self.client("here-1", "here-1", "wrong")
        self.assertNotEqual(bad.connect(), 0)
        time.sleep(0.3)
        self.assertFalse(self.daemon.device("here-1")["connected"])

    def test_devices_gauge(self):
        before = self.daemon.metric("gaffer_devices")
        self.assertIsNotNone(before, "gaffer_devices missing from /metrics")
        self.new_device("count-1")
        self.assertEqual(self.daemon.metric("gaffer_devices"), before + 1)
