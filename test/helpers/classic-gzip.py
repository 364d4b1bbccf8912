#!/usr/bin/env python3
"""Parts of a file as the classic Upload Agent compresses them (ua-behavior 2.4), made with Python's
zlib, which links the system's (upstream) zlib, as the classic agent does, unlike node:zlib.

Each chunk is one gzip member: deflateInit2(6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), one Z_FINISH.
A non-last member under the minimum part size is padded with copies of the 20-byte gzip of the empty
string. Every header's OS byte is --os (default 3, Unix; 19 is a macOS build of zlib >= 1.2.12).

usage: classic-gzip.py [--os N] <file> <chunk size> <min part size> <out dir> <index>...
writes <out dir>/part-<index> for each 1-based part index.
"""
import math
import os
import sys
import zlib


def member(data, os_code):
    c = zlib.compressobj(6, zlib.DEFLATED, 31, 8, zlib.Z_DEFAULT_STRATEGY)
    out = bytearray(c.compress(data) + c.flush())
    out[9] = os_code
    return bytes(out)


def main(argv):
    os_code = 3
    if argv[:1] == ["--os"]:
        os_code, argv = int(argv[1]), argv[2:]
    path, chunk, min_part, out_dir, indexes = argv[0], int(argv[1]), int(argv[2]), argv[3], argv[4:]
    size = os.path.getsize(path)
    empty = member(b"", os_code)
    assert len(empty) == 20
    with open(path, "rb") as f:
        for index in map(int, indexes):
            start = (index - 1) * chunk
            f.seek(start)
            part = member(f.read(min(chunk, size - start)), os_code)
            last = start + chunk >= size
            if not last and len(part) < min_part:
                part += empty * math.ceil((min_part - len(part)) / len(empty))
            with open(os.path.join(out_dir, "part-%d" % index), "wb") as out:
                out.write(part)


if __name__ == "__main__":
    main(sys.argv[1:])
