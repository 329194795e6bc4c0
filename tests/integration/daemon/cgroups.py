"""Reads and cleans the cgroups of a test daemon's cgroup_parent in every mounted hierarchy
(v1 controllers and cgroup2), and tells whether a process is still alive."""
import glob
import os
import signal
import time


def cgroup_roots(parent):
    """The directories of `parent` in every mounted hierarchy (v1 controllers, cgroup2)."""
    roots = []
    for base in ["/sys/fs/cgroup"] + sorted(glob.glob("/sys/fs/cgroup/*")):
        path = os.path.join(base, parent)
        if os.path.isdir(path) and os.path.exists(os.path.join(path, "cgroup.procs")):
            roots.append(path)
    return roots


def cgroup_children(parent):
    """Every cgroup directory strictly below `parent`, in any hierarchy."""
    found = []
    for root in cgroup_roots(parent):
        for dirpath, dirnames, _ in os.walk(root):
            found.extend(os.path.join(dirpath, d) for d in dirnames)
    return found


def environment_cgroups(parent, env_id):
    """The directories of environment `env_id`'s cgroup (env-<id> below `parent`) that exist."""
    return [d for d in (os.path.join(root, "env-%d" % env_id) for root in cgroup_roots(parent)) if os.path.isdir(d)]


def cgroup_pids(parent):
    pids = set()
    for root in cgroup_roots(parent):
        for dirpath, _, _ in os.walk(root):
            try:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    pids.update(int(line) for line in f if line.strip())
            except OSError:
                pass
    return pids


def remove_cgroups(parent):
    """Kills what is left in `parent` and removes its directories (best effort, bottom-up)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for pid in cgroup_pids(parent):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for root in cgroup_roots(parent):
            for dirpath, _, _ in sorted(os.walk(root), key=lambda e: -len(e[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        if not cgroup_roots(parent):
            return
        time.sleep(0.1)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False
