"""A real mosquitto for integration tests: Debian's broker on a free 127.0.0.1 port, with a
generated config and its persistence and (optionally) dynamic-security file in a private
temporary directory. stdlib only; the broker's log is kept for failure messages.

    with Broker(dynsec=True) as broker:
        broker.port, broker.admin_user, broker.admin_password
        broker.restart()   # same port, same persistence: a broker outage mid-traffic
"""
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_CTRL = "/usr/bin/mosquitto_ctrl"
DYNSEC_PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
# Gaffer's ingest plugin, from the build tree (the meson test sets it).
INGEST_PLUGIN = os.environ.get("GAFFER_INGEST_PLUGIN", "")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """dynsec=False: anonymous clients allowed. dynsec=True: the dynamic-security plugin with
    one admin client (admin_user / admin_password), nobody else until added. ingest=True:
    Gaffer's ingest plugin too (GAFFER_INGEST_PLUGIN), listening on `ingest_socket`."""

    def __init__(self, dynsec=False, admin_user="gaffer-admin", extra_config="", ingest=False):
        self.dir = tempfile.mkdtemp(prefix="gaffer-mosquitto-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.dynsec = dynsec
        self.admin_user = admin_user
        self.admin_password = secrets.token_urlsafe(18)
        self.config_path = os.path.join(self.dir, "mosquitto.conf")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.dynsec_path = os.path.join(self.dir, "dynamic-security.json")
        self.ingest_socket = os.path.join(self.dir, "ingest.sock") if ingest else ""
        self.process = None
        lines = [
            "listener %d 127.0.0.1" % self.port,
            "persistence true",
            "persistence_location %s/" % self.dir,
            "log_dest file %s" % self.log_path,
            "log_type all",
            "connection_messages true",
            "max_queued_messages 100000",
        ]
        if dynsec:
            subprocess.run([MOSQUITTO_CTRL, "dynsec", "init", self.dynsec_path, admin_user,
                            self.admin_password], check=True, capture_output=True)
            lines += ["plugin %s" % DYNSEC_PLUGIN,
                      "plugin_opt_config_file %s" % self.dynsec_path]
        else:
            lines.append("allow_anonymous true")
        if ingest:
            if not INGEST_PLUGIN:
                raise RuntimeError("Broker(ingest=True) needs GAFFER_INGEST_PLUGIN (the built plugin)")
            lines += ["plugin %s" % INGEST_PLUGIN,
                      "plugin_opt_socket %s" % self.ingest_socket,
                      "plugin_opt_routes_file %s" % os.path.join(self.dir, "ingest.routes")]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_config)
        # mosquitto drops root to the `mosquitto` user; it must be able to write here.
        try:
            shutil.chown(self.dir, user="mosquitto")
            if dynsec:
                shutil.chown(self.dynsec_path, user="mosquitto")
        except (LookupError, PermissionError):
            pass

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port

    def start(self, timeout=10):
        self.process = subprocess.Popen([MOSQUITTO, "-c", self.config_path],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _accepting(self.port):
            if self.process.poll() is not None:
                raise RuntimeError("mosquitto exited with %s:\n%s" % (self.process.returncode, self.log()))
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not listen on %d:\n%s" % (self.port, self.log()))
            time.sleep(0.02)
        return self

    def stop(self, timeout=10):
        """SIGTERM: mosquitto writes its persistence file on the way out."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, down_seconds=0.0):
        self.stop()
        time.sleep(down_seconds)
        return self.start()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
