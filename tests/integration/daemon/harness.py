"""End-to-end harness: starts a real gafferd with a generated config, talks to its local API
over the Unix socket (HTTP/1.1 + JSON), runs the real `gaffer` CLI, and cleans up every
daemon, process and cgroup a test leaves behind (stdlib only)."""
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from api_client import http_request
from cgroups import remove_cgroups

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def _program(variable, relative):
    explicit = os.environ.get(variable)
    if explicit:
        return explicit
    found = sorted(glob.glob(os.path.join(SOURCE_ROOT, "build*", relative)))
    return found[0] if found else os.path.join(SOURCE_ROOT, "build", relative)


GAFFERD = _program("GAFFERD", "coordinator/gafferd")
GAFFER = _program("GAFFER", "coordinator/cli/gaffer")
GAFFER_INIT = _program("GAFFER_INIT", "tasks/init/gaffer-init")
EXAMPLES = os.environ.get("GAFFER_EXAMPLES") or os.path.join(SOURCE_ROOT, "examples")
NOBODY = 65534


def integration_problem():
    if os.geteuid() != 0:
        return "needs root (cgroups, namespaces, setuid)"
    for name, path in (("GAFFERD", GAFFERD), ("GAFFER", GAFFER), ("GAFFER_INIT", GAFFER_INIT)):
        if not os.access(path, os.X_OK):
            return "%s not found at %s" % (name, path)
    return None


def require_integration():
    """Skips without root or binaries; with GAFFER_REQUIRE_INTEGRATION=1 that is a failure."""
    problem = integration_problem()
    if problem is None:
        return
    if os.environ.get("GAFFER_REQUIRE_INTEGRATION") == "1":
        raise AssertionError("integration test cannot run: " + problem)
    raise unittest.SkipTest(problem)


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value; returns it, or raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- the daemon --------------------------------------------------------------------------

def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


class Daemon:
    """One gafferd with its own state dir, socket, log dir and cgroup parent."""

    def __init__(self, root, scheduler=None, api=None, daemon=None, environments=None):
        self.root = root
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        self.state_dir = os.path.join(root, "state")
        self.log_dir = os.path.join(root, "logs")
        self.socket = os.path.join(root, "gaffer.sock")
        self.cgroup_parent = "gaffer-test-" + secrets.token_hex(4)
        self.config_path = os.path.join(root, "gaffer.toml")
        self.process = None
        self.runs = 0
        self.stderr_path = None
        sections = {
            "daemon": {"state_dir": self.state_dir, "default_user": "nobody", "log_level": "debug"},
            "api": {"socket": self.socket, "socket_group": ""},
            "environments": {"init_path": GAFFER_INIT, "log_dir": self.log_dir,
                             "cgroup_parent": self.cgroup_parent},
            "scheduler": {},
        }
        for name, extra in (("daemon", daemon), ("api", api), ("scheduler", scheduler),
                            ("environments", environments)):
            sections[name].update(extra or {})
        with open(self.config_path, "w") as f:
            for name, values in sections.items():
                f.write("[%s]\n" % name)
                for key, value in values.items():
                    f.write("%s = %s\n" % (key, _toml_value(value)))
                f.write("\n")

    # -- lifecycle
    def start(self, timeout=20):
        self.runs += 1
        self.stderr_path = os.path.join(self.root, "gafferd.%d.log" % self.runs)
        with open(self.stderr_path, "wb") as err:
            # The marker lets tests check that nothing of gafferd's environment leaks into tasks.
            env = dict(os.environ, GAFFER_E2E_DAEMON_ONLY="leaked")
            self.process = subprocess.Popen([GAFFERD, "--config", self.config_path], env=env,
                                            stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("gafferd exited with %s at start:\n%s"
                                     % (self.process.returncode, self.log_tail()))
            try:
                if http_request(self.socket, "GET", "/v1/status", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("gafferd did not answer /v1/status within %ss:\n%s"
                             % (timeout, self.log_tail()))

    def running(self):
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout):
        """SIGTERM; returns (exit code, seconds it took) or raises if it does not exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("gafferd still running %ss after SIGTERM:\n%s"
                                 % (timeout, self.log_tail()))
        return code, time.monotonic() - started

    def kill9(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def cleanup(self):
        if self.running():
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        remove_cgroups(self.cgroup_parent)

    def log_tail(self, lines=40):
        try:
            with open(self.stderr_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return "<no daemon log>"
        return "--- gafferd stderr (last %d lines) ---\n%s" % (
            lines, "\n".join(text.splitlines()[-lines:]))

    # -- API
    def request(self, method, target, body=None, headers=None, timeout=30):
        return http_request(self.socket, method, target, body, headers, timeout)

    def get_json(self, target):
        r = self.request("GET", target)
        if r.status != 200:
            raise AssertionError("GET %s: %r\n%s" % (target, r, self.log_tail()))
        return r.json()

    def add_task(self, manifest):
        r = self.request("POST", "/v1/tasks", manifest)
        if r.status not in (200, 201):
            raise AssertionError("adding task %s: %r\n%s" % (manifest.get("name"), r, self.log_tail()))
        return r.json()

    def invoke(self, task, event=None, timeout=60):
        return self.request("POST", "/v1/tasks/%s/invoke" % task,
                            json.dumps(event if event is not None else {}), timeout=timeout)

    def invoke_async(self, task, event=None):
        return self.request("POST", "/v1/tasks/%s/invoke?async=true" % task,
                            json.dumps(event if event is not None else {}))

    def invocation(self, invocation_id):
        return self.get_json("/v1/invocations/%s" % invocation_id)

    def wait_finished(self, invocation_id, timeout=30):
        return wait_for(lambda: (lambda v: v if v.get("state") == "finished" else None)(
            self.invocation(invocation_id)), timeout, 0.1, "invocation %s to finish" % invocation_id)

    def environments(self, task=None):
        envs = self.get_json("/v1/environments")["environments"]
        return [e for e in envs if task is None or e.get("task") == task]

    def task_state(self, name):
        return self.get_json("/v1/tasks/%s" % name).get("state")

    # -- CLI
    def cli(self, *args, input=None, as_user=None, timeout=60):
        command = [GAFFER, "--socket", self.socket] + list(args)
        if as_user is not None:
            uid, gid = as_user
            command = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + command
        return subprocess.run(command, input=input, capture_output=True, text=True, timeout=timeout)


def describe(result):
    return "exit %s\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout, result.stderr)


# ---- test case base ----------------------------------------------------------------------

class DaemonTestCase(unittest.TestCase):
    """Gives each class a world-readable workspace under /var/tmp (so a task sees it through
    its read-only /var bind) and, when `start_daemon` is set, one daemon for the class."""

    start_daemon = True
    scheduler = {}
    api = {}

    @classmethod
    def setUpClass(cls):
        require_integration()
        cls.workspace = tempfile.mkdtemp(prefix="gaffer-e2e-", dir="/var/tmp")
        os.chmod(cls.workspace, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.workspace, True)
        cls.daemon = None
        if cls.start_daemon:
            cls.daemon = cls.make_daemon("d", scheduler=cls.scheduler, api=cls.api)
            cls.addClassCleanup(cls.daemon.cleanup)
            cls.daemon.start()

    @classmethod
    def make_daemon(cls, name, **sections):
        return Daemon(os.path.join(cls.workspace, name), **sections)

    def new_daemon(self, name, **sections):
        """A daemon for one test, killed (with its cgroups) when the test ends."""
        daemon = self.make_daemon(name, **sections)
        self.addCleanup(daemon.cleanup)
        return daemon

    @classmethod
    def artifact(cls, name, files):
        """Writes {filename: text} into a world-readable artifact dir; scripts get 0755."""
        path = os.path.join(cls.workspace, "artifacts", name)
        os.makedirs(path, exist_ok=True)
        for d in (os.path.dirname(path), path):
            os.chmod(d, 0o755)
        for filename, text in files.items():
            target = os.path.join(path, filename)
            with open(target, "w") as f:
                f.write(text)
            os.chmod(target, 0o755)
        return path

    @staticmethod
    def manifest(name, command, artifact_dir, **fields):
        doc = {"name": name, "version": "1", "owner": "e2e", "command": command,
               "artifact_dir": artifact_dir, "interface": "process", "user": "nobody",
               "timeout": "5s", "limits": {"memory": "64M", "cpu": 1, "pids": 32}}
        doc.update(fields)
        return doc

    def assertHTTP(self, response, status, daemon=None):
        daemon = daemon or self.daemon
        self.assertEqual(response.status, status,
                         "%r\n%s" % (response, daemon.log_tail() if daemon else ""))
