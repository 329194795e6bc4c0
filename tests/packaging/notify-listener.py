#!/usr/bin/python3
"""Stands in for systemd's notification socket: binds an AF_UNIX datagram socket at argv[1]
and appends every sd_notify message to argv[2], one assignment per line, flushed at once.
Runs until killed."""
import os
import socket
import sys


def main() -> int:
    path, log_path = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(log_path, "a", encoding="utf-8") as log:
        while True:
            data = sock.recv(65536)
            for line in data.decode("utf-8", "replace").splitlines():
                log.write(line + "\n")
            log.flush()


if __name__ == "__main__":
    sys.exit(main())
