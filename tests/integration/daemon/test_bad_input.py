"""Bad input through the CLI and the API: invalid manifests name the field, malformed JSON,
unknown tasks and routes, wrong methods, oversized bodies, a full queue, and the socket's
access rules for a non-root client."""
import json
import os
import stat
import subprocess

from api_client import raw_exchange
from harness import GAFFER, GAFFERD, NOBODY, DaemonTestCase, describe

SLOW = "#!/bin/sh\nsleep 3\necho '{}'\n"


class BadInputTest(DaemonTestCase):
    scheduler = {"queue_limit": 2}
    api = {"max_request_bytes": "64K"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.art = cls.artifact("bad-input", {"slow.sh": SLOW})

    def valid(self, name="valid-task"):
        return self.manifest(name, ["/bin/cat"], self.art)

    def bad_manifests(self):
        missing = self.valid("missing-command")
        del missing["command"]
        wrong_type = self.valid("wrong-type")
        wrong_type["timeout"] = True
        unknown = self.valid("unknown-field")
        unknown["comand"] = ["/bin/cat"]
        bad_memory = self.valid("bad-memory")
        bad_memory["limits"] = {"memory": "12Q"}
        bad_pids = self.valid("bad-pids")
        bad_pids["limits"] = {"pids": "many"}
        relative_dir = self.valid("relative-dir")
        relative_dir["artifact_dir"] = "not/absolute"
        return [(missing, "command"), (wrong_type, "timeout"), (unknown, "comand"),
                (bad_memory, "limits.memory"), (bad_pids, "limits.pids"),
                (relative_dir, "artifact_dir")]

    def test_invalid_manifests_via_api(self):
        for manifest, field in self.bad_manifests():
            with self.subTest(field=field):
                r = self.daemon.request("POST", "/v1/tasks", manifest)
                self.assertHTTP(r, 400)
                body = r.json()
                self.assertEqual(body["error"], "invalid", body)
                self.assertIn(field, body["message"])
                self.assertHTTP(self.daemon.request("GET", "/v1/tasks/" + manifest["name"]), 404)

    def test_invalid_manifests_via_cli(self):
        for manifest, field in self.bad_manifests():
            with self.subTest(field=field):
                path = os.path.join(self.workspace, "bad-%s.json" % manifest["name"])
                with open(path, "w") as f:
                    json.dump(manifest, f)
                if field == "artifact_dir":
                    continue  # the CLI resolves a relative artifact_dir: no longer invalid
                result = self.daemon.cli("task", "add", path)
                self.assertEqual(result.returncode, 4, describe(result))
                self.assertIn(field, result.stderr + result.stdout)
                from_stdin = self.daemon.cli("task", "add", "-", input=json.dumps(manifest))
                self.assertEqual(from_stdin.returncode, 4, describe(from_stdin))

    def test_root_user_refused_without_allow_root_tasks(self):
        # docs/tasks.md: gafferd validates a manifest before accepting it, and running as root
        # needs allow_root_tasks (off here). A task that can never start must not be installed.
        for user in ("root", "0"):
            with self.subTest(user=user):
                manifest = self.manifest("as-root-" + user, ["/usr/bin/id", "-u"], self.art, user=user)
                r = self.daemon.request("POST", "/v1/tasks", manifest)
                if r.status in (200, 201):
                    # Whatever happens, it must not run as root.
                    ran = self.daemon.invoke(manifest["name"])
                    self.assertFalse(ran.header("X-Gaffer-Status") == "ok" and ran.text.strip() == "0", ran)
                self.assertHTTP(r, 400)
                self.assertIn("allow_root_tasks", r.json()["message"])
                path = os.path.join(self.workspace, "root-%s.json" % user)
                with open(path, "w") as f:
                    json.dump(manifest, f)
                result = self.daemon.cli("task", "add", path)
                self.assertEqual(result.returncode, 4, describe(result))

    def test_malformed_json(self):
        r = self.daemon.request("POST", "/v1/tasks", '{"name": "x", ')
        self.assertHTTP(r, 400)
        self.assertEqual(r.json()["error"], "invalid")
        self.assertTrue(r.json()["message"])
        result = self.daemon.cli("task", "add", "-", input='{"name": ')
        self.assertEqual(result.returncode, 4, describe(result))
        self.daemon.add_task(self.valid("json-target"))
        r = self.daemon.request("POST", "/v1/tasks/json-target/invoke", "{not json")
        self.assertHTTP(r, 400)
        result = self.daemon.cli("task", "invoke", "json-target", "--payload", "{not json")
        self.assertEqual(result.returncode, 4, describe(result))

    def test_unknown_task(self):
        r = self.daemon.request("POST", "/v1/tasks/no-such-task/invoke", "{}")
        self.assertHTTP(r, 404)
        self.assertEqual(r.json()["error"], "not_found")
        self.assertIn("no-such-task", r.json()["message"])
        for args in (("task", "invoke", "no-such-task"), ("task", "show", "no-such-task"),
                     ("task", "remove", "no-such-task"), ("task", "logs", "no-such-task")):
            result = self.daemon.cli(*args)
            self.assertEqual(result.returncode, 3, "%s: %s" % (args, describe(result)))

    def test_unknown_route_and_wrong_method(self):
        for target in ("/v1/nothing", "/", "/v2/status"):
            r = self.daemon.request("GET", target)
            self.assertHTTP(r, 404)
            self.assertEqual(r.json()["error"], "not_found", r)
        r = self.daemon.request("PUT", "/v1/tasks", "{}")
        self.assertHTTP(r, 405)
        self.assertIn("POST", r.header("Allow") or "", r)
        self.assertHTTP(self.daemon.request("DELETE", "/v1/status"), 405)

    def test_oversized_body(self):
        body = b"{\"pad\": \"" + b"x" * (200 * 1024) + b"\"}"
        request = (b"POST /v1/tasks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body
        answer = raw_exchange(self.daemon.socket, request)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:300])
        # The daemon is fine afterwards.
        self.assertHTTP(self.daemon.request("GET", "/v1/status"), 200)

    def test_queue_full(self):
        self.daemon.add_task(self.manifest("slow", ["/bin/sh", "slow.sh"], self.art,
                                           max_concurrency=1, timeout="10s"))
        answers = [self.daemon.invoke_async("slow", n) for n in range(6)]
        accepted = [a for a in answers if a.status == 202]
        refused = [a for a in answers if a.status == 429]
        self.assertEqual(len(accepted) + len(refused), 6, answers)
        self.assertGreaterEqual(len(accepted), 2, answers)
        self.assertLessEqual(len(accepted), 3, "queue_limit 2 plus the one running: %r" % answers)
        self.assertTrue(refused, answers)
        body = refused[0].json()
        self.assertEqual(body["error"], "busy", body)
        self.assertIn("2", body["message"], "the message should give the limit: %r" % body)
        result = self.daemon.cli("task", "invoke", "slow", "--async")
        self.assertEqual(result.returncode, 5, describe(result))
        self.assertRegex(result.stderr + result.stdout, "(?i)queue|busy|full", describe(result))
        metrics = self.daemon.request("GET", "/metrics").text
        self.assertRegex(metrics, r"(?m)^gaffer_\w*(reject|busy)\w*(\{[^}]*\})? [1-9]", metrics)
        # Removing the task ends its queued and running invocations `cancelled`.
        self.assertHTTP(self.daemon.request("DELETE", "/v1/tasks/slow"), 200)
        for answer in accepted:
            view = self.daemon.wait_finished(answer.json()["id"], timeout=10)
            self.assertEqual(view["status"], "cancelled", view)

    def test_cli_usage_and_unreachable_daemon(self):
        usage = self.daemon.cli("task", "frobnicate")
        self.assertEqual(usage.returncode, 1, describe(usage))
        missing = os.path.join(self.workspace, "no-daemon-here.sock")
        result = subprocess.run([GAFFER, "--socket", missing, "status"], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 2, describe(result))
        self.assertIn(missing, result.stderr)

    def test_socket_mode_and_non_member_refused(self):
        mode = stat.S_IMODE(os.stat(self.daemon.socket).st_mode)
        self.assertEqual(mode, 0o660, oct(mode))
        result = self.daemon.cli("status", as_user=(NOBODY, NOBODY))
        self.assertIn(result.returncode, (2, 7), describe(result))
        self.assertTrue(result.stderr.strip(), "a refused client should say why")

    def test_peer_credentials_checked_on_an_open_socket(self):
        # With a world-writable socket anyone can connect; the daemon itself must then admit
        # only root and members of socket_group.
        daemon = self.new_daemon("open-socket", api={"socket_mode": "0666", "socket_group": "nogroup"})
        daemon.start()
        self.assertEqual(stat.S_IMODE(os.stat(daemon.socket).st_mode), 0o666)
        outsider = daemon.cli("status", as_user=(NOBODY, 1))
        self.assertEqual(outsider.returncode, 7, describe(outsider))
        member = daemon.cli("status", as_user=(NOBODY, NOBODY))
        self.assertEqual(member.returncode, 0, describe(member))
        root = daemon.cli("status")
        self.assertEqual(root.returncode, 0, describe(root))


class ConfigAndTaskLimitTest(DaemonTestCase):
    start_daemon = False

    def test_bad_config_stops_the_daemon_with_the_key(self):
        cases = [({"queue_limt": 5}, ["scheduler.queue_limt", "queue_limit"]),
                 ({"queue_limit": 0}, ["scheduler.queue_limit", "between 1 and 100000"]),
                 ({"idle_timeout": "soon"}, ["scheduler.idle_timeout"])]
        for n, (scheduler, expected) in enumerate(cases):
            with self.subTest(scheduler=scheduler):
                daemon = self.make_daemon("bad-config-%d" % n, scheduler=scheduler)
                result = subprocess.run([GAFFERD, "--config", daemon.config_path], capture_output=True,
                                        text=True, timeout=20, stdin=subprocess.DEVNULL)
                self.assertNotEqual(result.returncode, 0, result.stderr)
                for text in expected + [daemon.config_path]:
                    self.assertIn(text, result.stderr)
                self.assertFalse(os.path.exists(daemon.socket))

    def test_max_tasks(self):
        daemon = self.new_daemon("max-tasks", daemon={"max_tasks": 2})
        daemon.start()
        art = self.artifact("max-tasks", {})
        for name in ("first", "second"):
            daemon.add_task(self.manifest(name, ["/bin/cat"], art))
        r = daemon.request("POST", "/v1/tasks", self.manifest("third", ["/bin/cat"], art))
        self.assertTrue(400 <= r.status < 500, r)
        self.assertTrue(r.json()["message"], r)
        self.assertHTTP(daemon.request("GET", "/v1/tasks/third"), 404, daemon)
        # Replacing an existing task is still allowed at the limit.
        self.assertHTTP(daemon.request("POST", "/v1/tasks", self.manifest("first", ["/bin/cat"], art,
                                                                          version="2")), 200, daemon)
