"""Integration tests for gaffer-init: real namespaces, mounts and privilege drops (root).

The test plays gafferd: it starts gaffer-init with fd 3 = its end of a socketpair, sends a
launch frame and invocations, and checks frames, logs and what the task saw."""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (InitTestCase, EXAMPLES, EXITED, INIT_ERROR, LOG, READY, RESULT, Environment,  # noqa: E402
                     base_spec, processes_with)

# Prints one JSON object describing what a task sees; run through the process interface.
PROBE = r"""#!/bin/sh
export PROBE_STDIN="$(cat)"
exec /usr/bin/python3 - <<'PY'
import json, os, socket, subprocess
def read(p):
    try:
        with open(p, "rb") as f: return f.read().decode(errors="replace")
    except OSError as e: return "ERR " + e.strerror
def writable(p):
    try:
        with open(p, "w") as f: f.write("x")
        return True
    except OSError: return False
status = dict(l.split(":\t", 1) for l in read("/proc/self/status").splitlines() if ":\t" in l)
pids = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
comms = [read("/proc/%d/comm" % p).strip() for p in pids]
def listing(p):
    try: return sorted(os.listdir(p))
    except OSError as e: return "ERR " + e.strerror
out = {
    "pid1_cmdline": read("/proc/1/cmdline").split("\0")[0],
    "pids": pids, "comms": comms,
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "cap_eff": status["CapEff"].strip(), "cap_prm": status["CapPrm"].strip(),
    "cap_bnd": status["CapBnd"].strip(), "cap_amb": status["CapAmb"].strip(),
    "no_new_privs": status["NoNewPrivs"].strip(),
    "fds": subprocess.run(["ls", "-l", "/proc/self/fd"], capture_output=True, text=True).stdout,
    "root_writable": writable("/gaffer-probe"), "etc_writable": writable("/etc/gaffer-probe"),
    "tmp_writable": writable("/tmp/probe"), "task_writable": writable("/task/probe"),
    "net_dev": read("/proc/net/dev"), "route": read("/proc/net/route"),
    "hostname": socket.gethostname(), "cwd": os.getcwd(),
    "env": dict(os.environ), "stdin": os.environ.get("PROBE_STDIN"),
    "hidden": listing(os.environ.get("HIDDEN", "/nonexistent")),
    "visible": listing(os.environ.get("VISIBLE", "/nonexistent")),
    "data_rw": writable("/data/rw/probe"), "data_ro": writable("/data/ro/probe"),
    "data_ro_files": listing("/data/ro"),
    "device": open("/dev/gaffer-zero", "rb").read(4).decode() if os.path.exists("/dev/gaffer-zero") else "absent",
    "dev_nodes": {n: [os.stat("/dev/" + n).st_mode, os.major(os.stat("/dev/" + n).st_rdev),
                      os.minor(os.stat("/dev/" + n).st_rdev)] for n in ("null", "zero", "full", "random", "urandom", "tty")},
    "dev_null_writable": writable("/dev/null"), "dev_writable": writable("/dev/gaffer-probe"),
    "zero_bytes": open("/dev/zero", "rb").read(3).hex(), "urandom_len": len(open("/dev/urandom", "rb").read(8)),
}
import time
for _ in range(100):  # the old root is detached concurrently with the task's start
    out["mountinfo"] = read("/proc/self/mountinfo")
    if "oldroot" not in out["mountinfo"]: break
    time.sleep(0.02)
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
    out["outside"] = "connected"
except OSError as e:
    out["outside"] = e.strerror or str(e)
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    out["loopback"] = "connected"
except OSError as e:
    out["loopback"] = e.strerror or str(e)
print(json.dumps(out))
PY
"""


class GafferInitTest(InitTestCase):
    def start(self, spec, **kw):
        env = Environment(spec, **kw)
        self.envs.append(env)
        return env

    def probe(self, **overrides):
        os.environ["PROBE_SECRET"] = "must-not-leak"
        artifact = self.ws.dir("probe")
        self.ws.script(artifact, "probe.sh", PROBE)
        spec = base_spec("probe", ["/bin/sh", "/task/probe.sh"], interface="process",
                         artifact_dir=artifact, **overrides)
        extra = os.open("/dev/null", os.O_RDONLY)  # a descriptor "leaked" by gafferd
        try:
            env = self.start(spec, extra_fds=[extra])
        finally:
            os.close(extra)
        env.expect(READY)
        env.invoke("probe-1", b"hello-stdin")
        result = env.expect(RESULT, timeout=30)
        self.assertEqual(result.header["status"], "ok", result)
        return json.loads(result.payload)

    def test_isolation(self):
        secret = self.ws.dir("secret")
        with open(os.path.join(secret, "key"), "w") as f:
            f.write("s3cret")
        os.chmod(os.path.join(secret, "key"), 0o644)
        visible = self.ws.dir("visible")
        with open(os.path.join(visible, "file"), "w") as f:
            f.write("x")
        rw, ro = self.ws.dir("rw"), self.ws.dir("ro")
        os.chmod(rw, 0o777)
        with open(os.path.join(ro, "present"), "w") as f:
            f.write("x")
        seen = self.probe(hidden_paths=[secret], hostname="probe-host",
                          environment={"HIDDEN": secret, "VISIBLE": visible},
                          resources=[{"source": rw, "target": "/data/rw", "writable": True},
                                     {"source": ro, "target": "/data/ro"},
                                     {"source": "/dev/zero", "target": "/dev/gaffer-zero", "device": True,
                                      "writable": True}])
        self.assertTrue(seen["pid1_cmdline"].endswith("gaffer-init"), seen["pid1_cmdline"])
        self.assertEqual(seen["pids"][0], 1)
        self.assertLess(len(seen["pids"]), 8, seen["comms"])
        self.assertEqual(seen["comms"][0], "gaffer-init")
        self.assertEqual((seen["uid"], seen["euid"], seen["gid"]), (65534, 65534, 65534))
        self.assertEqual(seen["groups"], [])
        for cap in ("cap_eff", "cap_prm", "cap_bnd", "cap_amb"):
            self.assertEqual(int(seen[cap], 16), 0, cap)
        self.assertEqual(seen["no_new_privs"], "1")
        fd_lines = [l for l in seen["fds"].splitlines() if "->" in l]
        self.assertEqual(len(fd_lines), 4, seen["fds"])  # 0, 1, 2 and ls's own directory
        self.assertIn("3 -> /proc/", fd_lines[3])
        self.assertFalse(seen["root_writable"])
        self.assertFalse(seen["etc_writable"])
        self.assertFalse(seen["task_writable"])
        self.assertTrue(seen["tmp_writable"])
        self.assertEqual(seen["hidden"], [])
        self.assertEqual(seen["visible"], ["file"])
        self.assertTrue(seen["data_rw"])
        self.assertTrue(os.path.exists(os.path.join(rw, "probe")))
        self.assertFalse(seen["data_ro"])
        self.assertEqual(seen["data_ro_files"], ["present"])
        self.assertEqual(seen["device"], "\0\0\0\0")
        interfaces = [l.split(":")[0].strip() for l in seen["net_dev"].splitlines()[2:]]
        self.assertEqual(interfaces, ["lo"])
        self.assertEqual(len(seen["route"].splitlines()), 1, seen["route"])  # header only
        self.assertNotEqual(seen["outside"], "connected")
        self.assertIn("refused", seen["loopback"].lower())  # lo is up, nothing listens on 9
        self.assertEqual(seen["hostname"], "probe-host")
        self.assertEqual(seen["cwd"], "/task")
        self.assertEqual(seen["stdin"], "hello-stdin")
        self.assertEqual(seen["env"]["HOME"], "/tmp")
        self.assertIn("/usr/bin", seen["env"]["PATH"])
        self.assertNotIn("AWS_LAMBDA_RUNTIME_API", seen["env"])
        self.assertEqual(seen["env"]["GAFFER_RUNTIME_API"], "127.0.0.1:9001")  # device services
        self.assertNotIn("PROBE_SECRET", seen["env"])  # only the spec's environment
        # /dev: the usual character devices, usable by the task user, and nothing new.
        import stat
        expected = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
        for name, (major, minor) in expected.items():
            mode, got_major, got_minor = seen["dev_nodes"][name]
            self.assertTrue(stat.S_ISCHR(mode), name)
            self.assertEqual((got_major, got_minor), (major, minor), name)
            self.assertEqual(stat.S_IMODE(mode), 0o666, name)
        self.assertTrue(seen["dev_null_writable"])
        self.assertFalse(seen["dev_writable"])
        self.assertEqual(seen["zero_bytes"], "000000")
        self.assertEqual(seen["urandom_len"], 8)
        for line in seen["mountinfo"].splitlines():
            self.assertNotIn("oldroot", line)  # detached (asynchronously, before our probe ran)
        # Every bind from the host and / itself are read-only, submounts included.
        for line in seen["mountinfo"].splitlines():
            fields = line.split()
            point, options = fields[4], fields[5].split(",")
            if point in ("/", "/etc", "/usr", "/var", "/sys") or point.startswith("/sys/") or point == "/task":
                self.assertIn("ro", options, line)

    def test_host_network_and_unhidden_control(self):
        # The same directory as test_isolation's hidden one, not hidden: its file shows.
        shown = self.ws.dir("secret")
        with open(os.path.join(shown, "key"), "w") as f:
            f.write("s3cret")
        # Port 0: on the host's loopback a fixed runtime API port could be taken (gafferd
        # does the same).
        seen = self.probe(network="host", runtime_api_port=0, environment={"HIDDEN": shown})
        self.assertEqual(seen["hidden"], ["key"])
        interfaces = [l.split(":")[0].strip() for l in seen["net_dev"].splitlines()[2:]]
        self.assertGreater(len(interfaces), 1, seen["net_dev"])  # the host's interfaces

    def test_setup_failure_names_the_path(self):
        env = self.start(base_spec("broken", ["/bin/true"], artifact_dir="/var/tmp/gaffer-no-such-artifact"))
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "setup_failed")
        self.assertIn("/var/tmp/gaffer-no-such-artifact", exited.header["detail"])
        self.assertNotEqual(env.wait(), 0)

    def test_bad_launch_is_a_protocol_error(self):
        env = self.start({"task": "x", "command": ["/bin/true"], "timeout_ms": "3s"})
        log = env.expect(LOG, skip_logs=False)
        self.assertIn("timeout_ms", log.payload.decode())
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "protocol_error")
        self.assertEqual(env.wait(), 2)

    def test_exec_failure_is_reported(self):
        env = self.start(base_spec("noexec", ["/task/missing"], interface="process", mode="long-lived"))
        exited = env.expect(EXITED)
        self.assertEqual(exited.header["reason"], "setup_failed")
        self.assertIn("execve /task/missing", exited.header["detail"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
