#!/usr/bin/env python3
"""Writes the load test's request body: a (HEIGHT, WIDTH, 10) float32 C-order .npy made by
tiling a (y, x, band) float32 scene (the clear Wright scene, 410 x 565 x 10) and cropping it.

    make_body.py SOURCE.npy OUT.npy [--height 1024] [--width 1024]

Standard library only (no NumPy needed): the source is read as raw little-endian float32
rows, which is what the .npy format holds for dtype '<f4' and fortran_order False.
"""
import argparse
import ast
import os
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"error: {path} is not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    descr, fortran, shape = header["descr"], header["fortran_order"], tuple(header["shape"])
    if descr != "<f4" or fortran or len(shape) != 3 or shape[2] != 10:
        sys.exit(f"error: {path}: expected a C-order (y, x, 10) '<f4' array, got {header}")
    body = data[start + hlen:]
    if len(body) != shape[0] * shape[1] * shape[2] * 4:
        sys.exit(f"error: {path}: {len(body)} data bytes for shape {shape}")
    return shape, body


def npy_header(shape):
    d = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }" % shape
    # Version 1.0: magic, version, header length; header + padding + '\n' a multiple of 64.
    total = 10 + len(d) + 1
    d += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode("latin1")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--height", type=int, default=1024)
    ap.add_argument("--width", type=int, default=1024)
    a = ap.parse_args()

    (sy, sx, nb), src = read_npy(a.source)
    px = nb * 4                      # bytes per pixel
    row_bytes = sx * px
    rows = []
    for y in range(sy):
        row = src[y * row_bytes:(y + 1) * row_bytes]
        reps = -(-a.width // sx)     # ceil
        rows.append((row * reps)[:a.width * px])
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(npy_header((a.height, a.width, nb)))
        for y in range(a.height):
            f.write(rows[y % sy])
    os.replace(tmp, a.out)
    print(f"wrote {a.out}: ({a.height}, {a.width}, {nb}) float32, {os.path.getsize(a.out)} bytes, "
          f"tiled from {a.source} ({sy}, {sx}, {nb})")


if __name__ == "__main__":
    main()
