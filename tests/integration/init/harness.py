"""A stand-in for gafferd: starts gaffer-init with fd 3 = one end of a socketpair and speaks
the control-channel protocol of tasks/runtime/runtime.hpp (stdlib only)."""
import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

LAUNCH, INVOKE, SHUTDOWN, SERVICE_REPLY = 1, 2, 3, 4
READY, RESULT, INIT_ERROR, EXITED, LOG, SERVICE_REQUEST = 10, 11, 12, 13, 14, 15
NAMES = {1: "launch", 2: "invoke", 3: "shutdown", 4: "service_reply", 10: "ready", 11: "result",
         12: "init_error", 13: "exited", 14: "log", 15: "service_request"}

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EXAMPLES = os.path.join(SOURCE_ROOT, "examples")


def encode(frame_type, header, payload=b""):
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = struct.pack("<BI", frame_type, len(header_bytes)) + header_bytes + payload
    return struct.pack("<I", len(body)) + body


def find_gaffer_init():
    explicit = os.environ.get("GAFFER_INIT")
    if explicit:
        return explicit
    candidates = sorted(glob.glob(os.path.join(SOURCE_ROOT, "build*", "tasks", "init", "gaffer-init")))
    candidates.append("/usr/libexec/gaffer/gaffer-init")
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    return candidates[-1]


def require_integration(test_case):
    """Skips without root (or without the binary); GAFFER_REQUIRE_INTEGRATION=1 makes that a failure."""
    problem = None
    if os.geteuid() != 0:
        problem = "needs root (namespaces, mounts, setuid)"
    elif not os.access(find_gaffer_init(), os.X_OK):
        problem = "gaffer-init not found at %s (set GAFFER_INIT)" % find_gaffer_init()
    if problem is None:
        return
    if os.environ.get("GAFFER_REQUIRE_INTEGRATION") == "1":
        test_case.fail("integration test cannot run: " + problem)
    raise unittest.SkipTest(problem)


class Frame:
    def __init__(self, frame_type, header, payload):
        self.type = frame_type
        self.header_text = header.decode()
        self.header = json.loads(header) if header else {}
        self.payload = payload

    def __repr__(self):
        return "<%s %s %r>" % (NAMES.get(self.type, self.type), self.header_text, self.payload[:120])


class Workspace:
    """A world-readable scratch directory under /var/tmp, which the environment sees
    read-only through its /var bind (so hidden_paths can be tested there)."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="gaffer-init-it-", dir="/var/tmp")
        os.chmod(self.path, 0o755)

    def dir(self, name):
        path = os.path.join(self.path, name)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        return path

    def script(self, directory, name, text, mode=0o755):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Environment:
    """One gaffer-init process and our end of its control channel."""

    def __init__(self, spec, extra_fds=()):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        self.buffer = b""
        self.stderr = tempfile.TemporaryFile()
        keep = list(extra_fds)

        def child_setup():
            os.dup2(theirs.fileno(), 3)

        self.proc = subprocess.Popen([find_gaffer_init()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     pass_fds=[3] + keep, preexec_fn=child_setup)
        theirs.close()
        self.started = time.monotonic()
        self.send(LAUNCH, spec)

    def send(self, frame_type, header, payload=b""):
        self.sock.sendall(encode(frame_type, header, payload))

    def invoke(self, invocation_id, event, **header):
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        self.send(INVOKE, dict(id=invocation_id, **header), body)

    def reply(self, request_id, status, body=b""):
        """Answers a service_request, as gafferd does."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send(SERVICE_REPLY, {"id": request_id, "status": status}, payload)

    def shutdown(self, grace_ms=1000):
        self.send(SHUTDOWN, {"grace_ms": grace_ms})

    def _read_exact(self, n, deadline):
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no frame from gaffer-init in time; stderr: " + self.stderr_text())
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                raise EOFError("gaffer-init closed the control channel; stderr: " + self.stderr_text())
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def frame(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        (length,) = struct.unpack("<I", self._read_exact(4, deadline))
        body = self._read_exact(length, deadline)
        frame_type, header_length = struct.unpack("<BI", body[:5])
        return Frame(frame_type, body[5:5 + header_length], body[5 + header_length:])

    def expect(self, frame_type, timeout=10.0, skip_logs=True):
        while True:
            f = self.frame(timeout)
            if skip_logs and f.type == LOG and frame_type != LOG:
                continue
            if f.type != frame_type:
                raise AssertionError("expected %s, got %r; stderr: %s" % (NAMES[frame_type], f, self.stderr_text()))
            return f

    def eof(self, timeout=10.0):
        """True when the channel closes within timeout (after any remaining frames)."""
        try:
            while True:
                self.frame(timeout)
        except EOFError:
            return True

    def wait(self, timeout=10.0):
        return self.proc.wait(timeout)

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    def close(self):
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def base_spec(task, command, **overrides):
    spec = {"task": task, "command": command, "uid": 65534, "gid": 65534, "network": "none",
            "timeout_ms": 10000, "runtime_api_port": 9001}
    spec.update(overrides)
    return spec


def processes_with(marker):
    """Host pids whose command line contains marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


class InitTestCase(unittest.TestCase):
    """Starts gaffer-init environments in a scratch workspace; closes them all afterwards."""

    def setUp(self):
        require_integration(self)
        self.ws = Workspace()
        self.envs = []

    def tearDown(self):
        for env in self.envs:
            env.close()
        self.ws.cleanup()
