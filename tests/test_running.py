"""The running-sum kernels hold to the numpy formulation they replaced, bit for bit: the
terms, sequential cumulative sums, trailing differences, np.linalg.det's singular test and
np.linalg.solve, on random data with holes, late listings, singular windows and extreme
scales."""

from itertools import combinations_with_replacement

import numpy as np
import pytest

from durationbt import running
from durationbt.running import _clear, trailing_slopes


def _numpy_slopes(Z, Y, window, min_rows, first=0):
    """The formulation before the kernels (running._extend without memory), verbatim in
    its arithmetic: np.where terms, np.cumsum, fancy-indexed trailing sums, np.linalg.det."""
    ok = np.isfinite(Y) & np.isfinite(Z).all(axis=1)[:, None]
    z = [np.where(ok, Z[:, [i]], 0.0) for i in range(Z.shape[1])]
    y = np.where(ok, Y, 0.0)
    terms = {"n": ok, ("y",): y}
    for i, zi in enumerate(z):
        terms[(i,)] = zi
        terms[(i, "y")] = zi * y
    for i, j in combinations_with_replacement(range(len(z)), 2):
        terms[(i, j)] = z[i] * z[j]
    sums = {name: np.cumsum(term, axis=0) for name, term in terms.items()}

    def trailing(name, at):
        total, (r, c) = sums[name], at
        behind = r - window
        return total[r, c] - np.where(behind >= 0, total[np.maximum(behind, 0), c], 0)

    def solvable(at):
        k = Z.shape[1]
        A, b = np.empty((len(at[0]), k + 1, k + 1)), np.empty((len(at[0]), k + 1))
        A[:, 0, 0] = trailing("n", at)
        b[:, 0] = trailing(("y",), at)
        for i in range(k):
            A[:, 0, i + 1] = A[:, i + 1, 0] = trailing((i,), at)
            b[:, i + 1] = trailing((i, "y"), at)
            for j in range(i, k):
                A[:, i + 1, j + 1] = A[:, j + 1, i + 1] = trailing((i, j), at)
        return np.abs(np.linalg.det(A)) > 1e-14, A, b

    n = sums["n"]
    count = n - np.concatenate([np.zeros((window, n.shape[1]), int), n[:-window]])[:len(n)]
    enough = count >= min_rows
    solve = enough & (np.arange(len(Y)) >= first)[:, None]
    if 0 < first < len(Y):
        at_first = np.nonzero(solve[first])[0]
        solve[first] = False
        solve[first, at_first[solvable((np.full(len(at_first), first), at_first))[0]]] = True
        solve[:first] = enough[:first] & ~solve[first]
    where = np.nonzero(solve)
    good_, A, b = solvable(where)
    good = np.zeros(solve.shape, bool)
    good[where[0][good_], where[1][good_]] = True
    slope = np.full(good.shape, np.nan)
    slope[good] = np.linalg.solve(A[good_], b[good_][:, :, None])[:, 1, 0]
    return slope, good


def _data(rows, cols, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    Z = np.column_stack([rng.normal(0, 0.1, rows), rng.normal(0, 0.02, rows)]) * scale
    Y = -0.05 * Z[:, [0]] + 0.9 * Z[:, [1]] + rng.normal(0, 0.01 * scale, (rows, cols))
    for c in range(cols):
        Y[: rng.integers(0, rows // 2), c] = np.nan                    # listed later
        lo = rng.integers(0, rows)
        Y[lo: lo + rng.integers(0, 40), c] = np.nan                    # a hole
    Z[rng.integers(0, rows, 5), rng.integers(0, 2, 5)] = np.nan      # missing regressors
    Y[rng.random(Y.shape) < 0.01] = -0.0                              # signed zeros
    return Z, Y


def _same(a, b):
    return a.shape == b.shape and (np.nan_to_num(a, nan=0.5).view(np.int64)
                                   == np.nan_to_num(b, nan=0.5).view(np.int64)).all()


@pytest.mark.parametrize("seed,scale,first", [(0, 1.0, 0), (1, 1e-60, 0), (2, 1e60, 150),
                                              (3, 1.0, 299), (4, 3.3e-4, 80)])
@pytest.mark.parametrize("remembered", [True, False])
def test_kernels_equal_the_numpy_formulation_bit_for_bit(seed, scale, first, remembered,
                                                         monkeypatch):
    running.forget()
    if not remembered:
        monkeypatch.setattr(running, "MEMO_CELLS", 0)
    Z, Y = _data(300, 40, seed, scale)
    Y[:, 3] = 0.25 * scale                           # a constant asset
    Z[100:180, 1] = 0.0                              # a market that does not move: singular
    want = _numpy_slopes(Z, Y, 60, 26, first)
    got = trailing_slopes(("t", seed, first), np.arange(300), Z, Y, 60, 26, first, block=16)
    assert _same(got[0], want[0]) and (got[1] == want[1]).all()
    assert want[1].sum() > 100 or scale < 1e-50     # 3.3e-4: determinants about 1e-14


@pytest.mark.parametrize("cut", [120, 200, 299])
def test_remembered_sums_carried_on_equal_the_numpy_formulation(cut):
    """A replay with another future: the sums up to where the data differ are remembered
    and carried on from there (the kernel's ``prev``)."""
    running.forget()
    Z, Y = _data(300, 30, 7)
    trailing_slopes("k", np.arange(300), Z, Y, 52, 26)
    Y2 = Y.copy()
    Y2[cut:] *= 1.5
    got = trailing_slopes("k", np.arange(300), Z, Y2, 52, 26)
    want = _numpy_slopes(Z, Y2, 52, 26)
    assert _same(got[0], want[0]) and (got[1] == want[1]).all()


def _decided(A):
    state = np.array([_clear(a) for a in A])
    with np.errstate(invalid="ignore"):
        lapack = np.abs(np.linalg.det(A)) > 1e-14
    told = state >= 0
    assert (state[told] == lapack[told]).all()
    return told


def test_closed_form_determinant_decides_only_what_lapack_decides_alike():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20_000, 60, 3))
    x[:, :, 0] = 1.0
    A = np.einsum("nri,nrj->nij", x, x)               # x'x as the estimates form them
    assert _decided(A).mean() > 0.999
    for scale in (1e-150, 1e-8, 1e-5, 1e-3, 1e3, 1e8, 1e100):
        _decided(A[:2000] * scale)
    # the bound itself: determinants scaled to sit on either side of 1e-14
    d = np.linalg.det(A[:2000])
    for f in (0.5, 0.999999, 1.0, 1.000001, 2.0):
        _decided(A[:2000] * np.cbrt(f * 1e-14 / d)[:, None, None])
    # singular: a constant column, repeated rows, a zero matrix, non-finite entries
    const = x[:2000].copy()
    const[:, :, 2] = 0.3
    rep = x[:2000].copy()
    rep[:, 1:] = rep[:, :1]
    bad = A[:3].copy()
    bad[0, 1, 1], bad[1, 0, 2], bad[2] = np.inf, np.nan, 0.0
    for S in (np.einsum("nri,nrj->nij", const, const), np.einsum("nri,nrj->nij", rep, rep), bad):
        told = _decided(S)
        assert not (np.array([_clear(a) for a in S])[told] == 1).any()
