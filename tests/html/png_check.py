#!/usr/bin/env python3
"""Checks that a PNG screenshot is not blank: decodes it (zlib, no PIL) and counts distinct
colours and non-background pixels over a sample of rows.

    tests/html/png_check.py FILE.png [MIN_COLOURS]

Prints "WIDTHxHEIGHT, N colours, P% not background" and exits 1 when the image has fewer than
MIN_COLOURS (default 16) colours or under 2 % of its pixels differ from the most common one.
"""
import struct
import sys
import zlib
from collections import Counter


def rows(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("unexpected PNG format %r" % (header,))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    out = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        out.append(bytes(line))
    return width, height, bpp, out


def main():
    path = sys.argv[1]
    minimum = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    width, height, bpp, lines = rows(path)
    colours = Counter()
    for y in range(0, height, max(1, height // 200)):
        line = lines[y]
        for x in range(0, width * bpp, bpp * 2):
            colours[line[x:x + 3]] += 1
    total = sum(colours.values())
    background = colours.most_common(1)[0][1]
    share = 100.0 * (total - background) / total
    print("%s: %dx%d, %d colours, %.1f%% not background" % (path, width, height, len(colours), share))
    return 0 if len(colours) >= minimum and share >= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
