"""Writes data/regression.csv and data/multilabel.csv (see data/README.md). Deterministic:
the inputs are points of the R_d low-discrepancy sequence, so there is no random seed.
Run from the repository root: python3 data/generate_loss_data.py"""
import math


def alphas(d):
    """a_k = 1/phi_d^k with phi_d the positive root of x^(d+1) = x + 1 (Roberts' R_d)."""
    phi = 2.0
    for _ in range(100):
        phi = (1 + phi) ** (1.0 / (d + 1))
    return [(1 / phi) ** (k + 1) % 1 for k in range(d)]


def points(n, d):
    """x_ik = frac(0.5 + i * a_k) for i = 1..n."""
    a = alphas(d)
    return [[(0.5 + i * ak) % 1 for ak in a] for i in range(1, n + 1)]


rows = ["x1,x2,x3,y1,y2"]
for x1, x2, x3 in points(256, 3):
    y1 = 0.5 * math.sin(math.pi * x1) + 0.5 * x2 * x3
    y2 = x1 - x3
    rows.append(f"{x1:.6f},{x2:.6f},{x3:.6f},{y1:.6f},{y2:.6f}")
open("data/regression.csv", "w").write("\n".join(rows) + "\n")

rows = ["x1,x2,x3,x4,big_x1,sum_x2_x3_over_1,x4_below_x1"]
for x1, x2, x3, x4 in points(256, 4):
    labels = [int(x1 > 0.5), int(x2 + x3 > 1.0), int(x4 < x1)]
    rows.append(f"{x1:.6f},{x2:.6f},{x3:.6f},{x4:.6f},{labels[0]},{labels[1]},{labels[2]}")
open("data/multilabel.csv", "w").write("\n".join(rows) + "\n")
