"""The one-thread ceiling the f64 kernels are compared with: numpy (OpenBLAS) GFLOP/s at the
shapes `benches/gemm.rs` measures, each operand in netc's layout (nt: a @ b.T, tn: a.T @ b;
numpy hands the transposes to BLAS as flags, nothing is copied).

Run pinned, one thread, like the Rust bench:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      taskset -c 1 python benches/numpy_gemm.py [float64|float32]
Each figure is the median of 5 runs of >= 1 s after a warm-up, by wall clock and by this
thread's CPU time (which leaves out time other processes held the core), like the Rust bench.
"""

import sys
import time

import numpy as np

SHAPES = [
    ("fwd L1", "nt", 64, 256, 784),
    ("fwd L2", "nt", 64, 128, 256),
    ("fwd L3", "nt", 64, 10, 128),
    ("dW3", "tn", 10, 128, 64),
    ("dH2", "nn", 64, 128, 10),
    ("dW2", "tn", 128, 256, 64),
    ("dH1", "nn", 64, 256, 128),
    ("dW1", "tn", 256, 784, 64),
    ("large", "nn", 2048, 2048, 2048),
]


def operands(op, m, n, k, dtype):
    rng = np.random.default_rng(0)
    a_shape = (k, m) if op == "tn" else (m, k)
    b_shape = (n, k) if op == "nt" else (k, n)
    a = rng.uniform(-1, 1, a_shape).astype(dtype)
    b = rng.uniform(-1, 1, b_shape).astype(dtype)
    return (a.T if op == "tn" else a), (b.T if op == "nt" else b)


def rate(a, b, flop):
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    start = time.perf_counter()
    while time.perf_counter() - start < 0.3:
        np.matmul(a, b, out=out)
    wall, cpu = [], []
    for _ in range(5):
        calls, start, cpu_start = 0, time.perf_counter(), time.thread_time()
        while True:
            np.matmul(a, b, out=out)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= 1.0:
                break
        wall.append(flop * calls / elapsed / 1e9)
        cpu.append(flop * calls / (time.thread_time() - cpu_start) / 1e9)
    return sorted(wall)[2], sorted(cpu)[2]


def main():
    dtype = np.dtype(sys.argv[1] if len(sys.argv) > 1 else "float64")
    print(f"numpy {np.__version__} {dtype}, median of 5 runs of >= 1 s")
    print(f"{'shape':<8} {'op':<4} {'m x n x k':>16} {'GFLOP/s':>10} {'(cpu time)':>10}")
    for label, op, m, n, k in SHAPES:
        a, b = operands(op, m, n, k, dtype)
        wall, cpu = rate(a, b, 2.0 * m * n * k)
        print(f"{label:<8} {op:<4} {f'{m}x{n}x{k}':>16} {wall:10.1f} {cpu:10.1f}")


main()
