#!/usr/bin/env python3
"""Userspace stand-in for `tc qdisc add dev lo root netem delay D`.

bench.sh uses it only when the kernel has no netem (no sch_netem, or no module
support at all). It listens on --listen, and for every accepted connection
opens one to --upstream and forwards bytes both ways, each chunk delivered
--one-way-ms after it was read, in order (a deadline per chunk, not a sleep
per chunk, so back-to-back chunks are not delayed twice). Like netem without
a rate limit.

The TCP handshake is emulated too: under netem the client's connect() returns
after one RTT and the server accepts (and sends its banner) half an RTT later,
so the banner arrives two RTTs after connect() starts. Here connect() to the
proxy returns at once, so the upstream connection is opened 3 one-way delays
after accept and the banner, delayed by one more, still arrives at 2 RTTs.

Only for loopback benchmarks: no limits on connections or buffering.
"""

import argparse
import asyncio
import collections
import signal
import socket
import sys


def split_hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class Side(asyncio.Protocol):
    """One socket of a proxied connection. What it reads is written to its peer `delay` s
    later, in order: one queue per direction and one timer at its head, so chunks read
    back to back are not delayed twice, and no task or stream object per chunk."""

    def __init__(self, delay):
        self.delay = delay
        self.loop = asyncio.get_running_loop()
        self.transport = None
        self.peer = None
        self.queue = collections.deque()  # (deadline, bytes, or None for EOF, or False: close)
        self.timer = None

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def later(self, item):
        self.queue.append((self.loop.time() + self.delay, item))
        if self.timer is None:
            self.timer = self.loop.call_at(self.queue[0][0], self.drain)

    def drain(self):
        self.timer = None
        if self.peer is None or self.peer.transport is None:
            return  # the upstream is not connected yet; connected() drains again
        now = self.loop.time()
        out = self.peer.transport
        while self.queue and self.queue[0][0] <= now:
            item = self.queue.popleft()[1]
            try:
                if out.is_closing():
                    pass  # the peer went away first: drop what is left for it
                elif item is None:
                    if out.can_write_eof():
                        out.write_eof()
                elif item is False:
                    out.close()
                else:
                    out.write(item)
            except OSError:  # e.g. shutdown() on a socket the other end has reset
                out.abort()
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.drain)

    def data_received(self, data):
        self.later(data)

    def eof_received(self):
        self.later(None)
        return True  # keep the other direction open until the peer closes it

    def connection_lost(self, exc):
        self.later(False)


class Client(Side):
    def __init__(self, delay, upstream):
        super().__init__(delay)
        self.upstream = upstream

    def connection_made(self, transport):
        super().connection_made(transport)
        self.loop.create_task(self.connect())

    async def connect(self):
        try:
            await asyncio.sleep(3 * self.delay)  # SYN, SYN-ACK, ACK
            _, up = await self.loop.create_connection(lambda: Side(self.delay), *self.upstream)
        except OSError:
            self.transport.close()
            return
        self.peer, up.peer = up, self
        self.drain()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Repeatable in pairs: the n-th --listen forwards to the n-th --upstream (the exporter
    # benchmark delays 20 emulators with one process).
    parser.add_argument("--listen", required=True, action="append", help="HOST:PORT")
    parser.add_argument("--upstream", required=True, action="append", help="HOST:PORT")
    parser.add_argument("--one-way-ms", type=float, required=True)
    args = parser.parse_args()

    if len(args.listen) != len(args.upstream):
        parser.error("give one --upstream per --listen")
    delay = args.one_way_ms / 1000.0
    servers = []
    for listen, up in zip(args.listen, args.upstream):
        upstream = split_hostport(up)
        host, port = split_hostport(listen)
        servers.append(await asyncio.get_running_loop().create_server(
            lambda upstream=upstream: Client(delay, upstream), host, port, reuse_address=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for listen, up in zip(args.listen, args.upstream):
        print(f"delay_proxy: {listen} -> {up}, {args.one_way_ms} ms each way",
              file=sys.stderr, flush=True)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
