"""Access rules the broker enforces for device accounts (issue #3: "a device may publish
and subscribe only its own topics, its own shadow topics, and what the routing table grants
it"; "a device with its own credentials cannot publish to another device's topics")."""
import unittest
import json
import time

from devices_harness import NOT_AUTHORIZED, DevicesTestCase, settle


def quiet(client, topic, seconds=0.5):
    """True if nothing arrives on topic for `seconds`."""
    time.sleep(seconds)
    return client.received(topic) == []


class AclTest(DevicesTestCase):

    def setUp(self):
        self.a = self.device_client(self.new_device("acl-a"))
        self.b = self.device_client(self.new_device("acl-b"))
        self.watch = self.observer()
        self.assertLess(self.watch.subscribe("things/#"), 0x80)

    def test_own_topics_publish_and_subscribe(self):
        self.assertEqual(self.a.subscribe("things/acl-a/#"), 1)
        self.assertTrue(self.a.publish("things/acl-a/status", b"up"))
        self.a.wait_message("things/acl-a/status")
        self.watch.wait_message("things/acl-a/status")
        # '#' includes the parent level: things/acl-a itself is the device's own topic too.
        self.assertTrue(self.a.publish("things/acl-a", b"root"))
        self.watch.wait_message("things/acl-a")

    def test_cannot_publish_to_another_devices_topics(self):
        self.assertEqual(self.b.subscribe("things/acl-b/#"), 1)
        self.a.publish("things/acl-b/commands", b"spoofed", qos=1)
        self.a.publish("things/acl-b/commands", b"spoofed0", qos=0)
        self.b.publish("things/acl-b/marker", b"after")  # B's own message, to know the broker had time
        self.b.wait_message("things/acl-b/marker")
        self.assertTrue(quiet(self.b, "things/acl-b/commands"), self.b.received())
        self.assertEqual(self.watch.received("things/acl-b/commands"), [])

    def test_cannot_subscribe_to_another_devices_topics(self):
        self.assertEqual(self.a.subscribe("things/acl-b/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("things/acl-b/commands"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("things/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("things/+/commands"), NOT_AUTHORIZED)
        self.b.publish("things/acl-b/commands", b"for b only")
        self.assertTrue(quiet(self.a, "things/acl-b/commands"))

    def test_no_topics_outside_its_namespace_without_a_route(self):
        self.a.publish("alerts/fire", b"x")
        self.a.publish("things", b"x")
        self.a.publish("things/acl-a-evil/x", b"x")  # a prefix of its name is not its name
        self.assertEqual(self.a.subscribe("alerts/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("things/acl-a-evil/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("$SYS/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("$CONTROL/dynamic-security/#"), NOT_AUTHORIZED)
        time.sleep(0.4)
        self.assertEqual(self.watch.received("alerts/fire"), [])
        self.assertEqual(self.watch.received("things/acl-a-evil/x"), [])

    def test_cannot_administer_the_broker(self):
        # A device that publishes a dynamic-security command must not get anywhere.
        command = {"commands": [{"command": "createClient", "username": "evil", "password": "evil"}]}
        self.a.publish("$CONTROL/dynamic-security/v1", json.dumps(command))
        time.sleep(0.5)
        evil = self.client("evil", "evil", "evil")
        self.assertNotEqual(evil.connect(), 0, "a device created a broker account")

    def test_shadow_topics_are_per_device(self):
        # Its own shadow: publish requests and subscribe answers.
        self.assertEqual(self.a.subscribe("$aws/things/acl-a/shadow/#"), 1)
        self.assertTrue(self.a.publish("$aws/things/acl-a/shadow/update",
                                       {"state": {"reported": {"on": True}}}))
        self.a.wait_json("$aws/things/acl-a/shadow/update/accepted", 5)
        # Not another device's: no subscription, and an update there changes nothing.
        self.assertEqual(self.a.subscribe("$aws/things/acl-b/shadow/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("$aws/things/+/shadow/#"), NOT_AUTHORIZED)
        self.a.publish("$aws/things/acl-b/shadow/update", {"state": {"desired": {"hacked": True}}})
        self.a.publish("$aws/things/acl-a/shadow/update", {"state": {"reported": {"marker": 1}}})
        self.a.wait_json("$aws/things/acl-a/shadow/update/accepted", 5,
                         lambda d: d.get("state", {}).get("reported", {}).get("marker") == 1)
        r = self.daemon.request("GET", "/v1/devices/acl-b/shadow")
        self.assertEqual(r.status, 404, "acl-a wrote acl-b's shadow: %r" % r)

    def test_device_to_device_route_grants_one_direction(self):
        routed = []
        self.assertEqual(self.b.subscribe("shared/a2b"), NOT_AUTHORIZED, "before the route")
        route = self.daemon.add_route("device:acl-a", "shared/a2b", "device:acl-b")
        routed.append(route["id"])
        self.assertEqual(settle(self.b, "shared/a2b", 1), 1)
        self.assertTrue(self.a.publish("shared/a2b", b"hello b"))
        got = self.b.wait_message("shared/a2b", 5)
        self.assertEqual(got[1], b"hello b")
        # The broker carries it; gafferd does not relay a second copy.
        time.sleep(0.5)
        self.assertEqual(len(self.b.received("shared/a2b")), 1, self.b.received())
        # One direction: B may not publish there, A may not subscribe.
        self.assertEqual(self.a.subscribe("shared/a2b"), NOT_AUTHORIZED)
        self.assertLess(self.watch.subscribe("shared/#"), 0x80)
        self.b.publish("shared/a2b", b"from b")
        self.assertTrue(self.a.publish("shared/a2b", b"marker"))
        self.watch.wait_message("shared/a2b", 5, lambda m: m[1] == b"marker")
        self.assertNotIn(b"from b", [m[1] for m in self.watch.received("shared/a2b")])

        # Removing the route revokes at once: A's publications stop reaching B, and B
        # cannot subscribe again.
        self.daemon.remove_route(route["id"])
        self.assertEqual(settle(self.b, "shared/a2b", NOT_AUTHORIZED), NOT_AUTHORIZED)
        self.b.clear()
        self.watch.clear()
        self.a.publish("shared/a2b", b"after removal")
        time.sleep(0.5)
        self.assertEqual(self.watch.received("shared/a2b"), [], "A still publishes after removal")
        fresh = self.device_client(self.daemon_credentials_rotate("acl-b"))
        self.assertEqual(fresh.subscribe("shared/a2b"), NOT_AUTHORIZED)

    def daemon_credentials_rotate(self, thing):
        result = self.daemon.cli("--json", "device", "credentials", thing)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)["credentials"]

    def test_route_filter_with_wildcards_grants_only_what_it_matches(self):
        route = self.daemon.add_route("device:acl-a", "zone/+/temp", "device:acl-b")
        self.addCleanup(self.daemon.cli, "route", "remove", str(route["id"]))
        self.assertEqual(settle(self.b, "zone/+/temp", 1), 1)
        self.assertEqual(self.b.subscribe("zone/#"), NOT_AUTHORIZED, "wider than the route")
        self.assertEqual(self.b.subscribe("zone/1/hum"), NOT_AUTHORIZED)
        self.assertTrue(self.a.publish("zone/1/temp", b"21"))
        self.a.publish("zone/1/hum", b"40")
        self.a.publish("zone/1/x/temp", b"no")
        self.b.wait_message("zone/1/temp", 5)
        self.assertLess(self.watch.subscribe("zone/#"), 0x80)
        self.a.publish("zone/1/hum", b"40")
        self.a.publish("zone/1/x/temp", b"no")
        self.assertTrue(self.a.publish("zone/2/temp", b"marker"))
        self.watch.wait_message("zone/2/temp", 5)
        self.assertEqual(self.watch.received("zone/1/hum"), [])
        self.assertEqual(self.watch.received("zone/1/x/temp"), [])

    def test_route_changes_take_effect_when_the_command_returns(self):
        """Once `gaffer route add` (resp. `route remove`) has answered, the grant is in force
        (resp. gone): a device subscribing at once is accepted (resp. refused). Device add,
        remove and rotate answer only when the broker has (docs/api.md); a route that
        answers before its ACLs are applied loses a device's first subscription."""
        late = []
        for i in range(40):  # the API the CLI uses, for a tight loop
            topic_filter = "race/%d" % i
            r = self.daemon.request("POST", "/v1/routes", {"source": "device:acl-a", "filter": topic_filter,
                                                           "target": "device:acl-b"})
            self.assertEqual(r.status, 201, r)
            if self.b.subscribe(topic_filter) != 1:
                late.append("grant of %s" % topic_filter)
            r = self.daemon.request("DELETE", "/v1/routes/%d" % r.json()["id"])
            self.assertEqual(r.status, 200, r)
            if self.b.subscribe(topic_filter) != NOT_AUTHORIZED:
                late.append("revocation of %s" % topic_filter)
        self.assertFalse(late, "route changes not in force when the API answered: %r" % late)
