"""Diff every numeric leaf of two summary.json files (rtol 1e-9; values below 1e-12 in
magnitude are round-off zeros, compared with atol 1e-14). Exit status 1 on a difference.

    python benchmarks/compare_summary.py before/summary.json after/summary.json
"""

import json
import math
import sys


def compare(a, b, rtol=1e-9, atol=1e-14, zero=1e-12):
    worst_rel, worst_abs, bad = [0.0, None], [0.0, None], []

    def walk(x, y, path):
        if isinstance(x, dict):
            if set(x) != set(y):
                bad.append((path, sorted(set(x) ^ set(y))))
                return
            for k in x:
                walk(x[k], y[k], f"{path}.{k}")
        elif isinstance(x, list):
            if len(x) != len(y):
                bad.append((path, len(x), len(y)))
                return
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{path}[{i}]")
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and y is not None:
            if not (math.isfinite(x) and math.isfinite(y)):
                if not (x == y or (math.isnan(x) and math.isnan(y))):
                    bad.append((path, x, y))
            elif max(abs(x), abs(y)) < zero:
                d = abs(x - y)
                worst_abs[:] = max(worst_abs, [d, (path, x, y)], key=lambda w: w[0])
                if d > atol:
                    bad.append((path, x, y))
            else:
                d = abs(x - y) / max(abs(x), abs(y))
                worst_rel[:] = max(worst_rel, [d, (path, x, y)], key=lambda w: w[0])
                if d > rtol:
                    bad.append((path, x, y))
        elif x != y:
            bad.append((path, x, y))

    walk(a, b, "")
    return worst_rel, worst_abs, bad


if __name__ == "__main__":
    a, b = (json.load(open(f)) for f in sys.argv[1:3])
    rel, ab, bad = compare(a, b)
    print(f"max relative difference {rel[0]:.3g} at {rel[1]}")
    print(f"round-off zeros: max absolute difference {ab[0]:.3g} at {ab[1]}")
    print("FAIL" if bad else "OK", bad[:10])
    sys.exit(1 if bad else 0)
