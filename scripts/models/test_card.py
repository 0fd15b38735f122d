#!/usr/bin/python3
"""Writes a 256x256 RGB test card (colour gradients, a disc, a checkerboard) as a binary PPM:
an input image for the demo that needs no download.

usage: scripts/models/test_card.py --out card.ppm
"""
import argparse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    size = 256
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            u, v = x / size, y / size
            rgb = [u, v, 1.0 - u]
            if (u - 0.5) ** 2 + (v - 0.5) ** 2 < 0.09:
                rgb = [1.0 - c for c in rgb]
            if u > 0.75 and v > 0.75 and (x // 16 + y // 16) % 2:
                rgb = [0.0, 0.0, 0.0]
            pixels += bytes(round(c * 255) for c in rgb)
    with open(out, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (size, size) + pixels)


if __name__ == "__main__":
    main()
