#!/usr/bin/env python3
"""A proxy that accepts TCP connections and never says a word.

    silent_server.py PORT SECONDS

Listens on 127.0.0.1:PORT, accepts every connection, reads and discards what
arrives, and exits after SECONDS (a bound, should the test forget to stop it).
"""
import selectors
import socket
import sys
import time

port, lifetime = int(sys.argv[1]), float(sys.argv[2])
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
sel = selectors.DefaultSelector()
sel.register(listener, selectors.EVENT_READ)
end = time.monotonic() + lifetime
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.2):
        if key.fileobj is listener:
            conn, _ = listener.accept()
            sel.register(conn, selectors.EVENT_READ)
        else:
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
