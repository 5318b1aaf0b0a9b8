#!/usr/bin/env python3
"""notify-listen.py SOCKET OUT - systemd's end of sd_notify, for the tests.

Binds the datagram socket SOCKET (a path, or @NAME in the abstract
namespace, as NOTIFY_SOCKET names them), creates OUT once it is bound,
then appends each datagram received to OUT as one line, "SECONDS TEXT",
SECONDS on the monotonic clock, until it is killed.
"""
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("\0" + path[1:] if path.startswith("@") else path)
with open(out, "a", buffering=1) as f:
    while True:
        msg = sock.recv(4096).decode()
        f.write("%.3f %s\n" % (time.monotonic(), msg))
