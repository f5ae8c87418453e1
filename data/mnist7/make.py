"""Derives data/mnist7 from data/mnist: every 28x28 image average-pooled 4x4 into 7x7 (49
features, rounded to the nearest byte), written as gzipped IDX like the originals.

train: the first 10,000 training images; test: all 10,000 test images. Deterministic: rerun
`python3 data/mnist7/make.py` from the repository root to reproduce the files byte for byte
(gzip mtime is fixed at 0)."""

import gzip
import struct


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * (dims - 1), data[8 : 4 + 4 * dims]) if dims > 1 else ()
    return count, shape, data[4 + 4 * dims :]


def write_idx(path, magic, dims, payload):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(header + payload)


def pool(pixels, count):
    out = bytearray()
    for n in range(count):
        image = pixels[n * 784 : (n + 1) * 784]
        for by in range(7):
            for bx in range(7):
                total = sum(image[(4 * by + y) * 28 + 4 * bx + x] for y in range(4) for x in range(4))
                out.append((total + 8) // 16)
    return bytes(out)


for split, source, limit in [("train", "train", 10_000), ("test", "t10k", 10_000)]:
    count, _, pixels = read_idx(f"data/mnist/{source}-images-idx3-ubyte.gz")
    _, _, labels = read_idx(f"data/mnist/{source}-labels-idx1-ubyte.gz")
    n = min(count, limit)
    write_idx(f"data/mnist7/{split}-images-idx3-ubyte.gz", 0x00000803, (n, 7, 7), pool(pixels, n))
    write_idx(f"data/mnist7/{split}-labels-idx1-ubyte.gz", 0x00000801, (n,), labels[:n])
