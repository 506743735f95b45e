"""Independent check of cxr_metrics::delong_mean_test (tests/it/delong_mean.rs), pure Python.

Placement values by brute force (O(m n)), then the covariance matrix of the per-finding AUROCs
cell by cell: for findings k and l, sum over the films labelled for both of the products of
their centred placements, each scaled by DeLong's sqrt(m (m - 1)) or sqrt(n (n - 1)); the
variance of the mean difference is 1/K^2 * sum_kl [C_aa + C_bb - C_ab - C_ba]. Run:
python3 crates/metrics/tests/it/delong_mean.py
"""
import math

A = [[0.2, 0.0, 0.0], [0.7, 0.3, 0.7], [0.2, 0.6, 0.9], [0.2, 0.0, 0.4], [0.3, 0.9, 0.3],
     [0.3, 0.8, 0.5], [0.1, 0.6, 0.4], [0.2, 0.7, 0.6], [0.5, 0.5, 0.4], [0.5, 0.7, 0.0],
     [0.6, 0.3, 0.0], [0.3, 1.0, 0.5], [0.3, 0.4, 0.9], [0.7, 0.0, 0.3], [0.4, 0.7, 0.2],
     [0.6, 0.5, 0.7]]
B = [[0.2, 0.7, 0.6], [1.0, 0.7, 0.0], [0.1, 0.8, 0.2], [0.5, 0.0, 0.7], [0.7, 0.4, 0.4],
     [0.2, 0.2, 0.8], [0.5, 0.8, 0.0], [0.1, 0.3, 0.7], [0.3, 0.2, 0.4], [0.7, 0.8, 0.4],
     [0.2, 0.7, 0.6], [0.9, 0.7, 0.2], [0.3, 0.8, 0.7], [0.8, 0.1, 0.4], [0.6, 0.6, 0.6],
     [0.0, 0.5, 0.8]]
T, F, N = True, False, None
L = [[F, F, F], [T, F, F], [F, F, T], [F, N, F], [F, T, F], [T, T, T], [F, N, F], [N, N, F],
     [F, T, N], [F, T, N], [T, T, N], [T, T, T], [F, N, T], [T, F, T], [T, N, N], [N, F, F]]
K = 3


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def finding(scores, k):
    """AUROC and {film: scaled centred placement} of finding k."""
    pos = [i for i in range(len(L)) if L[i][k] is True]
    neg = [i for i in range(len(L)) if L[i][k] is False]
    m, n = len(pos), len(neg)
    v10 = {i: sum(psi(scores[i][k], scores[j][k]) for j in neg) / n for i in pos}
    v01 = {j: sum(psi(scores[i][k], scores[j][k]) for i in pos) / m for j in neg}
    auc = sum(v10.values()) / m
    infl = {i: (v - auc) / math.sqrt(m * (m - 1)) for i, v in v10.items()}
    infl.update({j: (v - auc) / math.sqrt(n * (n - 1)) for j, v in v01.items()})
    return auc, infl


def cov(u, v):
    return sum(u[f] * v[f] for f in u if f in v)


fa = [finding(A, k) for k in range(K)]
fb = [finding(B, k) for k in range(K)]
mean_a = sum(a for a, _ in fa) / K
mean_b = sum(b for b, _ in fb) / K
var_a = sum(cov(fa[k][1], fa[l][1]) for k in range(K) for l in range(K)) / K**2
var_b = sum(cov(fb[k][1], fb[l][1]) for k in range(K) for l in range(K)) / K**2
cov_ab = sum(cov(fa[k][1], fb[l][1]) for k in range(K) for l in range(K)) / K**2
z = (mean_a - mean_b) / math.sqrt(var_a + var_b - 2 * cov_ab)
p = math.erfc(abs(z) / math.sqrt(2))
for name, v in [("mean_a", mean_a), ("mean_b", mean_b), ("var_a", var_a), ("var_b", var_b),
                ("cov_ab", cov_ab), ("z", z), ("p", p)]:
    print(f"{name} = {v!r}")
