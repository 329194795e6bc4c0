"""gaffer::registry against a real mosquitto 2.0.11 with its dynamic-security plugin."""
import time
import unittest

from harness import RegistryTestCase

NOT_AUTHORIZED = 135  # MQTT 5 reason code, CONNACK and SUBACK


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class CredentialsTest(RegistryTestCase):
    def test_only_its_own_client_id_and_password(self):
        password = self.add("pump-1")
        self.assertEqual(self.device("other-id", "pump-1", password).connect(), NOT_AUTHORIZED)
        self.assertEqual(self.device("pump-1", "pump-1", "wrong").connect(), NOT_AUTHORIZED)
        self.assertEqual(self.device("pump-1", "pump-1", password).connect(), 0)

    def test_rotate_invalidates_the_old_password(self):
        old = self.add("pump-1")
        session = self.connected("pump-1", old)
        reply = self.driver.call("rotate", thing="pump-1")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["stored"], "active")
        self.assertNotEqual(reply["password"], old)
        self.assertTrue(session.disconnected.wait(5), "rotation did not disconnect the device")
        session.close()
        self.assertEqual(self.device("pump-1", "pump-1", old).connect(), NOT_AUTHORIZED)
        self.assertEqual(self.device("pump-1", "pump-1", reply["password"]).connect(), 0)

    def test_remove_disconnects_and_locks_out(self):
        password = self.add("pump-1")
        session = self.connected("pump-1", password)
        reply = self.driver.call("remove", thing="pump-1")
        self.assertTrue(reply["ok"], reply)
        self.assertTrue(session.disconnected.wait(5), "removal did not disconnect the device")
        session.close()
        self.assertEqual(self.device("pump-1", "pump-1", password).connect(), NOT_AUTHORIZED)
        self.assertEqual(self.driver.call("remove", thing="pump-1")["code"], "not_found")

    def test_add_while_link_down_stays_pending_until_reconcile(self):
        self.driver.send({"op": "link", "up": False})
        reply = self.driver.call("add", thing="late-1")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["credentials"], "pending")
        self.assertEqual(reply["stored"], "pending")
        self.assertEqual(self.device("late-1", "late-1", reply["password"]).connect(), NOT_AUTHORIZED)
        self.driver.send({"op": "link", "up": True})
        report = self.driver.call("reconcile")
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["created"], 1, report)
        self.assertEqual(report["problems"], [])
        self.assertEqual(self.device("late-1", "late-1", reply["password"]).connect(), 0)

    def test_reconcile_marks_a_lost_client_missing(self):
        self.add("lost-1")
        # An operator deletes the client behind gafferd's back (same dynsec command).
        self.driver.client.publish("$CONTROL/dynamic-security/v1",
                                   '{"commands":[{"command":"deleteClient","username":"lost-1"}]}', qos=1)
        time.sleep(0.5)
        report = self.driver.call("reconcile")
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["missing"], 1, report)
        reply = self.driver.call("rotate", thing="lost-1")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(self.device("lost-1", "lost-1", reply["password"]).connect(), 0)


class AclTest(RegistryTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.connected("dev-a", self.add("dev-a"))
        self.b = self.connected("dev-b", self.add("dev-b"))

    def test_own_topics(self):
        self.assertEqual(self.a.subscribe("things/dev-a/#"), 1)
        self.a.publish("things/dev-a/temp", "21")
        self.assertEqual(self.a.received(), [("things/dev-a/temp", "21")])

    def test_shadow_topics(self):
        self.assertEqual(self.a.subscribe("$aws/things/dev-a/shadow/#"), 1)
        self.a.publish("$aws/things/dev-a/shadow/update", "{}")
        self.assertEqual(self.a.received(), [("$aws/things/dev-a/shadow/update", "{}")])
        self.assertEqual(self.a.subscribe("$aws/things/dev-b/shadow/#"), NOT_AUTHORIZED)

    def test_not_another_devices_topics(self):
        self.assertEqual(self.a.subscribe("things/dev-b/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("things/#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("#"), NOT_AUTHORIZED)
        self.assertEqual(self.a.subscribe("$SYS/#"), NOT_AUTHORIZED)
        self.assertEqual(self.b.subscribe("things/dev-b/#"), 1)
        self.a.publish("things/dev-b/cmd", "forged")
        self.a.publish("$aws/things/dev-b/shadow/update", "forged")
        self.assertEqual(self.b.received(), [])

    def test_granted_routes(self):
        reply = self.driver.call("grant", thing="dev-a", publish=["plant/line1/cmd"], subscribe=[])
        self.assertTrue(reply["ok"], reply)
        reply = self.driver.call("grant", thing="dev-b", publish=[], subscribe=["plant/+/cmd"])
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(self.b.subscribe("plant/+/cmd"), 1)
        self.assertEqual(self.a.subscribe("plant/+/cmd"), NOT_AUTHORIZED)
        self.a.publish("plant/line1/cmd", "go")
        self.assertEqual(self.b.received(), [("plant/line1/cmd", "go")])
        # Withdrawn: the existing subscription stops delivering at once.
        self.assertTrue(self.driver.call("grant", thing="dev-b", publish=[], subscribe=[])["ok"])
        self.a.publish("plant/line1/cmd", "again")
        self.assertEqual(self.b.received(), [])
        self.assertEqual(self.driver.call("grant", thing="dev-a", publish=["$SYS/x"])["code"], "invalid")


class PresenceTest(RegistryTestCase):
    def presence(self, thing):
        return self.driver.call("presence", thing=thing)

    def test_connect_and_disconnect_are_seen(self):
        password = self.add("sensor-9")
        self.assertFalse(self.presence("sensor-9")["known"])
        session = self.connected("sensor-9", password)
        self.assertTrue(wait_for(lambda: self.presence("sensor-9")["connected"]),
                        self.driver.presence_lines)
        session.close()
        self.assertTrue(wait_for(lambda: not self.presence("sensor-9")["connected"]),
                        self.driver.presence_lines)
        self.assertTrue(self.presence("sensor-9")["known"])
        self.assertTrue(any("New client connected from" in l and " as sensor-9 " in l
                            for l in self.driver.presence_lines), self.driver.presence_lines)

    def test_refused_login_is_not_presence(self):
        self.add("sensor-9")
        self.assertEqual(self.device("sensor-9", "sensor-9", "wrong").connect(), 135)
        time.sleep(0.5)
        self.assertFalse(self.presence("sensor-9")["known"])


if __name__ == "__main__":
    unittest.main()
