"""Device shadow conformance over MQTT against the real daemon: a registered device talks
to the shadow service on `$aws/things/{thing}/shadow[/name/{shadow}]/...` with its own
credentials, as an AWS IoT device would (issue #3 "Device shadows"; AWS's "Device Shadow
service documents", "Device Shadow MQTT topics" and "Device Shadow error messages";
docs/devices.md; the places AWS is silent are listed in devices/shadow/shadow.hpp)."""
import itertools
import json
import time

from devices_harness import DevicesTestCase

SHADOW_NOT_FOUND = "No shadow exists with name: '%s'"  # docs/api.md and docs/cli.md examples
_counter = itertools.count(1)


class Shadow:
    """One device's view of one of its shadows over MQTT."""

    def __init__(self, test, client, thing, name=None):
        self.test = test
        self.client = client
        self.thing = thing
        self.name = name
        self.prefix = "$aws/things/%s/shadow" % thing + ("/name/%s" % name if name else "")
        self.tokens = itertools.count(1)

    def request(self, op, payload, token=True, timeout=5):
        """Publishes a request and returns ("accepted"|"rejected", document) of the answer
        that carries our clientToken (or, with token=False, the next answer on that op)."""
        if isinstance(payload, dict) and "clientToken" in payload:
            given = payload["clientToken"]
            valid = isinstance(given, str) and len(given.encode()) <= 64
            token = given if valid else False  # an invalid token is not echoed: next answer
        elif token is True:
            token = "t-%d-%d" % (id(self) % 10000, next(self.tokens))
        if isinstance(payload, dict):
            payload = dict(payload)
            if token:
                payload.setdefault("clientToken", token)
            payload = json.dumps(payload)
        seen = {"accepted": len(self.client.received(self.topic(op, "accepted"))),
                "rejected": len(self.client.received(self.topic(op, "rejected")))}
        self.test.assertTrue(self.client.publish(self.topic(op), payload, qos=1), "PUBACK for " + op)

        def answer():
            for kind in ("accepted", "rejected"):
                for _, body, _, _ in self.client.received(self.topic(op, kind))[0 if token else seen[kind]:]:
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        continue
                    if not token or doc.get("clientToken") == token:
                        return kind, doc
            return None
        found = self.client._wait(answer, timeout)
        if not found:
            raise AssertionError("no answer to %s %s within %ss; received: %r\n%s"
                                 % (self.topic(op), payload[:200], timeout,
                                    self.client.received()[-6:], self.test.daemon.log_tail(20)))
        return found

    def topic(self, op, *more):
        return "/".join((self.prefix, op) + more)

    def update(self, state=None, **fields):
        doc = dict(fields)
        if state is not None:
            doc["state"] = state
        return self.request("update", doc)

    def accept(self, state=None, **fields):
        kind, doc = self.update(state, **fields)
        self.test.assertEqual(kind, "accepted", doc)
        return doc

    def reject(self, payload, code, message, op="update"):
        """message: the exact message, or None to check only the code."""
        kind, doc = self.request(op, payload, token=isinstance(payload, dict))
        self.test.assertEqual(kind, "rejected", doc)
        self.test.assertEqual(doc.get("code"), code, doc)
        if message is not None:
            self.test.assertEqual(doc.get("message"), message, doc)
        self.test.assert_epoch_seconds(doc.get("timestamp"))
        return doc

    def missing(self, op="get"):
        """A 404 for this missing shadow (the exact message is checked in
        test_get_of_a_missing_shadow_is_404)."""
        doc = self.reject({}, 404, None, op=op)
        self.test.assertTrue(doc.get("message", "").startswith("No shadow exists with name: "), doc)
        return doc

    def get(self):
        return self.request("get", {})

    def document(self):
        kind, doc = self.get()
        self.test.assertEqual(kind, "accepted", doc)
        return doc

    def delete(self):
        return self.request("delete", {})


class ShadowMqttTest(DevicesTestCase):

    def setUp(self):
        self.thing = "shadow-%d" % next(_counter)
        self.dev = self.device_client(self.new_device(self.thing))
        self.assertEqual(self.dev.subscribe("$aws/things/%s/shadow/#" % self.thing), 1)
        self.classic = Shadow(self, self.dev, self.thing)

    def assert_epoch_seconds(self, value):
        self.assertIsInstance(value, int, "timestamps are integers: %r" % (value,))
        self.assertLess(abs(value - time.time()), 30, "epoch SECONDS expected, got %r" % value)

    def assert_metadata_leaves(self, metadata, state):
        """metadata mirrors state: every leaf has {"timestamp": epoch seconds}."""
        for key, value in state.items():
            self.assertIn(key, metadata, (metadata, state))
            if isinstance(value, dict) and value:
                self.assert_metadata_leaves(metadata[key], value)
            elif not isinstance(value, dict):
                self.assert_epoch_seconds(metadata[key]["timestamp"])

    # -- answers to get, update and delete -------------------------------------------------

    def test_get_of_a_missing_shadow_is_404(self):
        """AWS quotes the name ("No shadow exists with name: 'thing'"), and so do the
        examples in docs/api.md and docs/cli.md."""
        doc = self.classic.reject({}, 404, None, op="get")
        self.assertTrue(doc.get("clientToken"), "clientToken echoed on rejected: %r" % doc)
        named = Shadow(self, self.dev, self.thing, "config")
        named_doc = named.reject({}, 404, None, op="get")
        deleted = self.classic.reject({}, 404, None, op="delete")
        self.assertEqual(doc["message"], SHADOW_NOT_FOUND % self.thing, doc)
        self.assertEqual(deleted["message"], SHADOW_NOT_FOUND % self.thing, deleted)
        # Docs name only the shadow; AWS's service writes 'thing~shadow'. Either, quoted.
        self.assertIn(named_doc["message"], (SHADOW_NOT_FOUND % "config",
                                             SHADOW_NOT_FOUND % (self.thing + "~config")), named_doc)

    def test_first_update_accepted_documents_delta_and_get(self):
        state = {"desired": {"color": "red", "power": 3}, "reported": {"color": "green", "power": 3}}
        doc = self.classic.accept(state, clientToken="first-update")
        self.assertEqual(doc["state"], state)
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["clientToken"], "first-update")
        self.assert_epoch_seconds(doc["timestamp"])
        self.assert_metadata_leaves(doc["metadata"]["desired"], state["desired"])
        self.assert_metadata_leaves(doc["metadata"]["reported"], state["reported"])

        docs = self.dev.wait_json(self.classic.topic("update", "documents"), 5)
        self.assertEqual(docs["current"]["state"], state)
        self.assertEqual(docs["current"]["version"], 1)
        self.assert_metadata_leaves(docs["current"]["metadata"]["desired"], state["desired"])
        self.assert_epoch_seconds(docs["timestamp"])
        self.assertEqual(docs.get("clientToken"), "first-update")

        delta = self.dev.wait_json(self.classic.topic("update", "delta"), 5)
        self.assertEqual(delta["state"], {"color": "red"}, "only what differs from reported")
        self.assertEqual(delta["version"], 1)
        self.assert_epoch_seconds(delta["timestamp"])
        self.assert_metadata_leaves(delta["metadata"], {"color": "red"})

        got = self.classic.document()
        self.assertEqual(got["state"], dict(state, delta={"color": "red"}))
        self.assertEqual(got["version"], 1)
        self.assert_metadata_leaves(got["metadata"]["desired"], state["desired"])
        self.assert_metadata_leaves(got["metadata"]["reported"], state["reported"])
        self.assertTrue(got.get("clientToken"))
        shown = self.daemon.device(self.thing)
        self.assertEqual(shown["shadows"], [""], "the classic shadow is listed as \"\"")

    def test_recursive_merge_and_null_deletes(self):
        s = self.classic
        s.accept({"desired": {"a": {"b": 1, "c": {"d": 2}}, "keep": "k"}})
        s.accept({"desired": {"a": {"c": {"e": 3}}}})
        self.assertEqual(s.document()["state"]["desired"],
                         {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "keep": "k"})
        s.accept({"desired": {"a": {"b": None, "c": {"d": None}}}})
        got = s.document()
        self.assertEqual(got["state"]["desired"], {"a": {"c": {"e": 3}}, "keep": "k"})
        self.assertNotIn("b", got["metadata"]["desired"]["a"], "deleted leaves lose their metadata")
        s.accept({"desired": {"a": None}, "reported": {"r": True}})
        self.assertEqual(s.document()["state"]["desired"], {"keep": "k"})
        # A whole section set to null goes away.
        s.accept({"desired": None})
        got = s.document()
        self.assertNotIn("desired", got["state"], got)
        self.assertNotIn("delta", got["state"], got)
        self.assertNotIn("desired", got.get("metadata", {}), got)
        self.assertEqual(got["state"]["reported"], {"r": True})
        self.assertEqual(got["version"], 5)

    def test_arrays_are_replaced_whole(self):
        s = self.classic
        s.accept({"desired": {"list": [1, 2, 3], "nested": {"l": [{"x": 1}, {"y": 2}]}}})
        s.accept({"desired": {"list": [4], "nested": {"l": [{"z": 3}]}}})
        got = s.document()
        self.assertEqual(got["state"]["desired"], {"list": [4], "nested": {"l": [{"z": 3}]}})
        s.accept({"desired": {"list": []}})
        self.assertEqual(s.document()["state"]["desired"]["list"], [])

    def test_metadata_timestamps_are_per_leaf(self):
        s = self.classic
        first = s.accept({"desired": {"old": 1, "o": {"p": 1}}})
        time.sleep(1.1)
        second = s.accept({"desired": {"new": 2, "o": {"q": 2}}})
        self.assertGreater(second["timestamp"], first["timestamp"])
        meta = s.document()["metadata"]["desired"]
        self.assertEqual(meta["old"]["timestamp"], first["timestamp"])
        self.assertEqual(meta["o"]["p"]["timestamp"], first["timestamp"])
        self.assertEqual(meta["new"]["timestamp"], second["timestamp"])
        self.assertEqual(meta["o"]["q"]["timestamp"], second["timestamp"])
        # The accepted document's metadata covers only what the request changed.
        self.assertNotIn("old", second["metadata"]["desired"])

    def test_version_increments_by_one_and_conflicts_are_409(self):
        s = self.classic
        versions = [s.accept({"reported": {"n": i}})["version"] for i in range(3)]
        self.assertEqual(versions, [1, 2, 3])
        before = s.document()
        doc = s.reject({"state": {"reported": {"n": 99}}, "version": 2, "clientToken": "stale"},
                       409, "Version conflict")
        self.assertEqual(doc["clientToken"], "stale")
        after = s.document()
        self.assertEqual(after["state"], before["state"], "a rejected update changes nothing")
        self.assertEqual(after["version"], 3)
        self.assertEqual(s.accept({"reported": {"n": 4}}, version=3)["version"], 4)
        s.reject({"state": {"reported": {"n": 5}}, "version": 5}, 409, "Version conflict")
        s.reject({"state": {"reported": {"n": 5}}, "version": "4"}, 400, "Invalid version")
        s.reject({"state": {"reported": {"n": 5}}, "version": 4.5}, 400, "Invalid version")
        self.assertEqual(s.accept({"reported": {"n": 5}})["version"], 5)

    def test_client_token_echo_and_limit(self):
        s = self.classic
        token64 = "x" * 64
        self.assertEqual(s.accept({"reported": {"a": 1}}, clientToken=token64)["clientToken"], token64)
        s.reject({"state": {"reported": {"a": 2}}, "clientToken": "x" * 65}, 400, "Invalid clientToken")
        # 64 bytes, not characters: 22 three-byte characters are 66 bytes.
        s.reject({"state": {"reported": {"a": 2}}, "clientToken": "\u20ac" * 22}, 400, "Invalid clientToken")
        s.reject({"state": {"reported": {"a": 2}}, "clientToken": 12}, 400, "Invalid clientToken")
        self.assertEqual(s.document()["state"]["reported"], {"a": 1})
        self.assertEqual(s.document()["version"], 1)
        kind, doc = s.request("get", {"clientToken": "get-token"}, token=False)
        self.assertEqual((kind, doc.get("clientToken")), ("accepted", "get-token"))

    def test_malformed_requests_are_400_and_write_nothing(self):
        s = self.classic
        s.reject("{not json", 400, "Invalid JSON")
        s.reject("[1, 2]", 400, "Invalid JSON")
        s.reject({"notstate": {}}, 400, "Missing required node: state")
        s.reject({"state": "on"}, 400, "State node must be an object")
        s.reject({"state": {"desired": [1]}}, 400, "Desired node must be an object")
        s.reject({"state": {"reported": 5}}, 400, "Reported node must be an object")
        s.reject({"state": {"delta": {"a": 1}}}, 400, "State contains an invalid node")
        s.reject({"state": {"desired": {"a": 1}, "bogus": {}}}, 400, "State contains an invalid node")
        # None of these created the shadow.
        self.classic.missing()
        self.assertEqual(self.daemon.device(self.thing)["shadows"], [])

    def test_nesting_over_six_levels_is_400(self):
        s = self.classic

        def nested(levels):
            """`levels` nested objects: {"l1": {"l2": ... {"l<levels>": "x"}}}: the value of
            `desired` is level 1, as in shadow.hpp's example."""
            value = "x"
            for i in range(levels, 0, -1):
                value = {"l%d" % i: value}
            return value
        # The section's own object is level 1 (shadow.hpp): {"desired": {"l1": ... {"l6":
        # "x"}}} has six object levels and is accepted; one more is not.
        six = nested(6)
        s.accept({"desired": six})
        s.reject({"state": {"desired": nested(7)}}, 400,
                 "JSON contains too many levels of nesting; maximum is 6")
        s.reject({"state": {"reported": {"a": [[[[[["deep"]]]]]]}}}, 400,
                 "JSON contains too many levels of nesting; maximum is 6")
        got = s.document()
        self.assertEqual(got["state"]["desired"], six)
        self.assertNotIn("reported", got["state"])
        self.assertEqual(got["version"], 1)

    def test_state_over_8_kib_is_413(self):
        s = self.classic
        s.accept({"reported": {"small": 1}})
        s.reject({"state": {"reported": {"big": "x" * 8300}}}, 413,
                 "The payload exceeds the maximum size allowed")
        self.assertEqual(s.document()["state"]["reported"], {"small": 1})
        s.accept({"reported": {"fits": "y" * 7000}})
        # Each request fits, but the resulting state would not: refused, nothing written.
        s.reject({"state": {"desired": {"more": "z" * 3000}}}, 413,
                 "The payload exceeds the maximum size allowed")
        got = s.document()
        self.assertNotIn("desired", got["state"])
        self.assertEqual(got["version"], 2)
        # A payload far beyond any limit is refused too, and the service keeps answering.
        self.assertTrue(self.dev.publish(s.topic("update"), json.dumps(
            {"state": {"reported": {"huge": "h" * 300000}}, "clientToken": "huge"})))
        doc = self.dev.wait_json(s.topic("update", "rejected"), 5, lambda d: d.get("code") == 413
                                 and d.get("clientToken") in ("huge", None))
        self.assertEqual(doc["message"], "The payload exceeds the maximum size allowed")
        self.assertEqual(s.document()["version"], 2)
        self.assertTrue(self.daemon.running())

    def test_delete_then_recreate_continues_the_version(self):
        s = self.classic
        for i in range(3):
            s.accept({"desired": {"i": i}})
        kind, doc = s.request("delete", {"clientToken": "del-1"}, token=False)
        self.assertEqual(kind, "accepted", doc)
        self.assertEqual(doc["version"], 3)
        self.assertEqual(doc["clientToken"], "del-1")
        self.assert_epoch_seconds(doc["timestamp"])
        self.assertNotIn("state", doc)
        s.missing("get")
        s.missing("delete")
        self.assertEqual(self.daemon.device(self.thing)["shadows"], [])
        again = s.accept({"desired": {"fresh": True}})
        self.assertEqual(again["version"], 4, "a recreated shadow continues the numbering")
        self.assertEqual(s.document()["state"]["desired"], {"fresh": True})

    def test_named_shadows_are_separate_documents(self):
        config = Shadow(self, self.dev, self.thing, "config")
        other = Shadow(self, self.dev, self.thing, "other_1:x-y")
        self.classic.accept({"desired": {"classic": 1}})
        doc = config.accept({"desired": {"named": 1}})
        self.assertEqual(doc["version"], 1, "versions are per shadow")
        other.accept({"reported": {"o": 1}})
        self.assertEqual(self.classic.document()["state"]["desired"], {"classic": 1})
        self.assertEqual(config.document()["state"]["desired"], {"named": 1})
        # A named shadow's answers arrive on its own topics only.
        config.accept({"desired": {"named": 2}}, clientToken="named-only")
        for _, body, _, _ in self.dev.received(self.classic.topic("update", "accepted")):
            self.assertNotIn("named-only", body.decode())
        self.dev.wait_json(config.topic("update", "delta"), 5, lambda d: d["state"] == {"named": 2})
        self.assertEqual(sorted(self.daemon.device(self.thing)["shadows"]), ["", "config", "other_1:x-y"])
        kind, _ = config.delete()
        self.assertEqual(kind, "accepted")
        config.missing()
        self.assertEqual(self.classic.document()["version"], 1)
        self.assertEqual(other.document()["state"]["reported"], {"o": 1})

    def test_delta_follows_desired_and_reported(self):
        s = self.classic
        s.accept({"desired": {"a": 1, "b": 2}, "reported": {"a": 1}})
        delta = self.dev.wait_json(s.topic("update", "delta"), 5)
        self.assertEqual(delta["state"], {"b": 2})
        # The device reports b: the delta is gone, and a reported-only update publishes none.
        self.dev.clear()
        s.accept({"reported": {"b": 2}})
        got = s.document()
        self.assertNotIn("delta", got["state"], got)
        time.sleep(0.3)
        self.assertEqual(self.dev.received(s.topic("update", "delta")), [])
        # Desired equal to reported: no delta either.
        s.accept({"desired": {"a": 1}})
        time.sleep(0.3)
        self.assertEqual(self.dev.received(s.topic("update", "delta")), [])
        # A desired change: a delta with the difference, nested keys included.
        s.accept({"desired": {"a": 5, "n": {"x": 1}}})
        delta = self.dev.wait_json(s.topic("update", "delta"), 5)
        self.assertEqual(delta["state"], {"a": 5, "n": {"x": 1}})
        self.assertEqual(delta["version"], 4)

    def test_documents_carry_previous_and_current(self):
        s = self.classic
        s.accept({"reported": {"t": 20}})
        self.dev.clear()
        s.accept({"reported": {"t": 21}}, clientToken="second")
        docs = self.dev.wait_json(s.topic("update", "documents"), 5,
                                  lambda d: d.get("current", {}).get("version") == 2)
        self.assertEqual(docs["previous"]["state"], {"reported": {"t": 20}})
        self.assertEqual(docs["previous"]["version"], 1)
        self.assertEqual(docs["current"]["state"], {"reported": {"t": 21}})
        self.assertEqual(docs["current"]["version"], 2)
        self.assertEqual(docs["clientToken"], "second")
        self.assert_epoch_seconds(docs["timestamp"])

    def test_get_accepts_an_empty_payload(self):
        self.classic.accept({"reported": {"x": 1}})
        kind, doc = self.classic.request("get", "", token=False)
        self.assertEqual(kind, "accepted", doc)
        self.assertEqual(doc["state"]["reported"], {"x": 1})

    def test_burst_of_updates_gets_consecutive_versions(self):
        s = self.classic
        count = 60
        infos = [self.dev.publish_async(s.topic("update"), json.dumps(
            {"state": {"reported": {"k%d" % i: i}}, "clientToken": "burst-%d" % i}), 1)
            for i in range(count)]
        for info in infos:
            info.wait_for_publish(5)

        def answers():
            got = [json.loads(b) for _, b, _, _ in self.dev.received(s.topic("update", "accepted"))]
            return got if len(got) >= count else None
        got = self.dev._wait(answers, 15)
        self.assertTrue(got, "only %d of %d burst updates answered"
                        % (len(self.dev.received(s.topic("update", "accepted"))), count))
        self.assertEqual(sorted(d["version"] for d in got), list(range(1, count + 1)))
        self.assertEqual(self.dev.received(s.topic("update", "rejected")), [])
        final = s.document()
        self.assertEqual(final["version"], count)
        self.assertEqual(len(final["state"]["reported"]), count)
