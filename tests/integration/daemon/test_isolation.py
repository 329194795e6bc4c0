"""What a task sees, asked from inside a real environment that gafferd built: PID 1 is
gaffer-init, only its own processes, a read-only host tree, a private /tmp, the daemon's
state hidden, no network with "network": "none", nobody, no capabilities, no_new_privs."""
import os
import socket
import threading

from harness import NOBODY, DaemonTestCase

PROBE = r'''#!/usr/bin/python3
import errno, json, os, socket, sys

def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def touch(path):
    with open(path, "w") as f:
        f.write("x")

def tcp(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.close()

def unix(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(path)
    s.close()

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return "error " + errno.errorcode.get(e.errno, str(e.errno))

status = {}
with open("/proc/self/status") as f:
    for line in f:
        key, _, value = line.partition(":")
        status[key] = value.strip()
procs = {}
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open("/proc/%s/comm" % entry) as f:
                procs[entry] = f.read().strip()
        except OSError:
            pass
mounts = {}
with open("/proc/self/mountinfo") as f:
    for line in f:
        fields = line.split()
        mounts[fields[4]] = {"options": fields[5].split(","), "fstype": fields[fields.index("-") + 1]}
with open("/proc/1/cmdline", "rb") as f:
    cmdline = f.read().split(b"\0")[0].decode()
with open("/proc/net/dev") as f:
    interfaces = sorted(line.split(":")[0].strip() for line in f.readlines()[2:])

tmp_ok = False
try:
    touch(os.environ["TMP_MARK"])
    with open(os.environ["TMP_MARK"]) as f:
        tmp_ok = f.read() == "x"
except OSError:
    pass

report = {
    "pid1": cmdline, "procs": procs, "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
    "groups": os.getgroups(), "hostname": socket.gethostname(),
    "caps": {k: status[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
    "no_new_privs": status.get("NoNewPrivs"),
    "touch_etc": attempt(lambda: touch("/etc/gaffer-e2e-x")),
    "touch_task": attempt(lambda: touch("/task/x")),
    "tmp_ok": tmp_ok,
    "mounts": {p: mounts.get(p) for p in ("/", "/etc", "/usr", "/task", "/tmp", "/proc")},
    "state_dir": listing(os.environ["STATE_DIR"]),
    "log_dir": listing(os.environ["LOG_DIR"]),
    "state_db": attempt(lambda: open(os.path.join(os.environ["STATE_DIR"], "gaffer.db")).close()),
    "interfaces": interfaces,
    "tcp_host_listener": attempt(lambda: tcp(int(os.environ["HOST_PORT"]))),
    "api_socket": attempt(lambda: unix(os.environ["API_SOCKET"])),
    "pid": os.getpid(),
}
json.dump(report, sys.stdout)
'''


class IsolationTest(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A TCP listener on the host's loopback: reachable from "network": "host" only.
        cls.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        cls.listener.bind(("127.0.0.1", 0))
        cls.listener.listen(16)
        cls.addClassCleanup(cls.listener.close)
        cls.accepting = True
        threading.Thread(target=cls._accept_loop, daemon=True).start()
        cls.port = cls.listener.getsockname()[1]
        cls.tmp_mark = "/tmp/gaffer-e2e-%s" % os.path.basename(cls.workspace)
        artifact = cls.artifact("probe", {"probe.py": PROBE})
        environment = {"STATE_DIR": cls.daemon.state_dir, "LOG_DIR": cls.daemon.log_dir,
                       "HOST_PORT": str(cls.port), "API_SOCKET": cls.daemon.socket,
                       "TMP_MARK": cls.tmp_mark}
        for name, network in (("probe-none", "none"), ("probe-host", "host")):
            cls.daemon.add_task(cls.manifest(name, ["/usr/bin/python3", "probe.py"], artifact,
                                             network=network, environment=environment))
        default_user = cls.manifest("probe-default-user", ["/usr/bin/python3", "probe.py"], artifact,
                                    network="none", environment=environment)
        del default_user["user"]  # the daemon's default_user (nobody in these tests)
        cls.daemon.add_task(default_user)
        cls.reports = {}

    @classmethod
    def _accept_loop(cls):
        while True:
            try:
                conn, _ = cls.listener.accept()
                conn.close()
            except OSError:
                return

    def report(self, task):
        if task not in self.reports:
            r = self.daemon.invoke(task)
            self.assertHTTP(r, 200)
            self.assertEqual(r.header("X-Gaffer-Status"), "ok", r)
            self.reports[task] = r.json()
        return self.reports[task]

    def test_pid_namespace_and_init(self):
        report = self.report("probe-none")
        self.assertIn("gaffer-init", os.path.basename(report["pid1"]), report["pid1"])
        self.assertEqual(report["procs"].get("1"), "gaffer-init", report["procs"])
        # Only the environment's own processes: init (and its helpers) and the probe.
        others = {pid: comm for pid, comm in report["procs"].items()
                  if comm not in ("gaffer-init", "python3")}
        self.assertEqual(others, {}, report["procs"])
        self.assertLessEqual(len(report["procs"]), 4, report["procs"])
        self.assertLess(report["pid"], 100, "the probe's pid should be small in a new PID namespace")
        self.assertEqual(report["hostname"], "probe-none")

    def test_read_only_host_and_private_tmp(self):
        report = self.report("probe-none")
        self.assertEqual(report["touch_etc"], "EROFS")
        self.assertEqual(report["touch_task"], "EROFS")
        for path in ("/", "/etc", "/usr", "/task"):
            mount = report["mounts"][path] or report["mounts"]["/"]
            self.assertIn("ro", mount["options"], "%s should be read-only: %r" % (path, report["mounts"]))
        self.assertTrue(report["tmp_ok"], "writing /tmp should work")
        self.assertEqual(report["mounts"]["/tmp"]["fstype"], "tmpfs", report["mounts"])
        self.assertIn("rw", report["mounts"]["/tmp"]["options"])
        self.assertFalse(os.path.exists(self.tmp_mark), "the task's /tmp must not be the host's")

    def test_daemon_state_and_logs_hidden(self):
        report = self.report("probe-none")
        self.assertTrue(os.listdir(self.daemon.state_dir), "the daemon should have written state")
        self.assertIn(report["state_dir"], ([], "error ENOENT"), report["state_dir"])
        self.assertIn(report["log_dir"], ([], "error ENOENT"), report["log_dir"])
        self.assertNotEqual(report["state_db"], "ok")

    def test_network_none(self):
        report = self.report("probe-none")
        self.assertEqual(report["interfaces"], ["lo"])
        self.assertNotEqual(report["tcp_host_listener"], "ok")
        self.assertNotEqual(report["api_socket"], "ok")

    def test_network_host_reaches_the_listener(self):
        # The control case: the same probe on the host network does reach the listener, so
        # the failure above is the namespace and not the probe.
        report = self.report("probe-host")
        self.assertEqual(report["tcp_host_listener"], "ok", report)
        self.assertIn("lo", report["interfaces"])
        self.assertGreater(len(report["interfaces"]), 1, report["interfaces"])
        # Even on the host network the API socket stays closed to a task.
        self.assertNotEqual(report["api_socket"], "ok")

    def test_user_and_privileges(self):
        for task in ("probe-none", "probe-host", "probe-default-user"):
            report = self.report(task)
            self.assertEqual((report["uid"], report["euid"]), (NOBODY, NOBODY))
            self.assertEqual(report["groups"] in ([], [report["gid"]]), True, report["groups"])
            self.assertEqual(report["caps"], {k: "0000000000000000" for k in report["caps"]})
            self.assertEqual(report["no_new_privs"], "1")
