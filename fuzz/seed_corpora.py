#!/usr/bin/env python3
"""Fills fuzz/corpus/{spec,idx,csv}/ from the repository (run from anywhere; standard library
only). The checkpoint seeds come from `cargo +nightly run --example checkpoint_seeds`.
Deterministic: gzip files are written with mtime 0, so rerunning gives identical bytes."""

import glob
import gzip
import os
import struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)


def out(target, name, data):
    path = os.path.join(FUZZ, "corpus", target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# spec: every spec and every corpus case, named after where it came from.
for path in sorted(glob.glob(os.path.join(ROOT, "specs", "*.net"))
                   + glob.glob(os.path.join(ROOT, "tests", "corpus", "**", "*.net"), recursive=True)):
    rel = os.path.relpath(path, ROOT).replace(os.sep, "_")
    with open(path, "rb") as f:
        out("spec", rel, f.read())

# idx: the first images and labels of the 7x7 MNIST test set, raw and gzipped, plus one file
# of each other element type and shape the loader knows.
with gzip.open(os.path.join(ROOT, "data/mnist7/test-images-idx3-ubyte.gz")) as f:
    images = f.read()
with gzip.open(os.path.join(ROOT, "data/mnist7/test-labels-idx1-ubyte.gz")) as f:
    labels = f.read()
assert images[:4] == b"\x00\x00\x08\x03" and labels[:4] == b"\x00\x00\x08\x01"
rows, height, width = struct.unpack(">III", images[4:16])
n = 3
small_images = b"\x00\x00\x08\x03" + struct.pack(">III", n, height, width) + images[16:16 + n * height * width]
small_labels = b"\x00\x00\x08\x01" + struct.pack(">I", n) + labels[8:8 + n]
out("idx", "mnist7_images_3.idx", small_images)
out("idx", "mnist7_images_3.idx.gz", gz(small_images))
out("idx", "mnist7_labels_3.idx", small_labels)
out("idx", "mnist7_labels_3.idx.gz", gz(small_labels))
out("idx", "i8_2x2.idx", b"\x00\x00\x09\x02" + struct.pack(">II", 2, 2) + bytes([0, 1, 0xff, 0x80]))
out("idx", "i16_3.idx", b"\x00\x00\x0b\x01" + struct.pack(">I", 3) + struct.pack(">hhh", 1, -1, 2))
out("idx", "i32_2.idx", b"\x00\x00\x0c\x01" + struct.pack(">I", 2) + struct.pack(">ii", 0, 7))
out("idx", "f32_2x1.idx", b"\x00\x00\x0d\x02" + struct.pack(">II", 2, 1) + struct.pack(">ff", 0.5, 1.0))
out("idx", "f64_1.idx", b"\x00\x00\x0e\x01" + struct.pack(">I", 1) + struct.pack(">d", 2.0))
out("idx", "empty_0x5.idx", b"\x00\x00\x08\x02" + struct.pack(">II", 0, 5))

# csv: the small data files (the long ones cut to a few rows) and hand-made edge cases.
with open(os.path.join(ROOT, "data/xor.csv"), "rb") as f:
    out("csv", "xor.csv", f.read())
for name in ["regression.csv", "multilabel.csv"]:
    with open(os.path.join(ROOT, "data", name), "rb") as f:
        out("csv", name.replace(".csv", "_5rows.csv"), b"".join(f.readlines()[:6]))
out("csv", "no_header.csv", b"1,2,0\n3,4,1\n")
out("csv", "blank_lines_spaces.csv", b"a,b,c\n\n 1 , 2 ,0\r\n\n3,4,1\n")
out("csv", "specials.csv", b"x,y\nnan,1\ninf,-inf\n1e39,-0\n+1.5e-3,2\n")
out("csv", "one_column.csv", b"label\n0\n1\n")
