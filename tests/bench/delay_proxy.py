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
import signal
import socket
import sys


def split_hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk released `delay` s after it was read."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((loop.time() + delay, b""))

    async def write_side():
        try:
            while True:
                deadline, data = await queue.get()
                wait = deadline - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    await asyncio.gather(read_side(), write_side())


async def handle(client_reader, client_writer, upstream, delay):
    nodelay(client_writer)
    try:
        await asyncio.sleep(3 * delay)  # SYN, SYN-ACK, ACK
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.close()
        return
    nodelay(up_writer)
    try:
        await asyncio.gather(
            pump(client_reader, up_writer, delay),
            pump(up_reader, client_writer, delay),
        )
    finally:
        for w in (client_writer, up_writer):
            try:
                w.close()
            except OSError:
                pass


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
        servers.append(await asyncio.start_server(
            lambda r, w, upstream=upstream: handle(r, w, upstream, delay), host, port,
            reuse_address=True))
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
