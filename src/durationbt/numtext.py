"""Numbers to text as ``"%.10g" % v`` writes them, rows at a time in numba, and the double
pandas' CSV parser makes of that text again, so a run's page can be drawn from its tables
in memory exactly as from its files.

Exactness: a number is rounded to 10 significant digits by scaling it by a power of ten,
within two roundings of exact (3e-6 of a unit in the 10th digit at most); within 1e-4 of a
tie the exact product (or quotient) by the power decides, half to even, as Python's
formatting does. Subnormal and huge numbers, and ties past 10**22 (where no power of ten
is exact), are left to Python's own ``"%.10g" %`` (``hard``), as pandas formats every cell.
The text is read back correctly rounded, as pandas' parser (fast_float) and Python's
``float`` read it: the digits times or over an exact power of ten, or Python's ``float``
past 10**22 (``tests/test_csvwrite.py`` holds both directions to pandas on a million
values)."""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["render_rows", "WIDTH"]

WIDTH = 18      # '-1.234567891e-100' and a separator
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), np.uint8)
_TEN = np.array([float(f"1e{k}") for k in range(23)])              # exact doubles
_POW = np.array([float(f"1e{k}") for k in range(-300, 301)])      # _POW[300 + k] = 10**k


@numba.njit(cache=True)
def _rounded(a):
    """``a`` (1e-290 < a < 1e290) as ``d * 10**(e - 9)`` with 10 digits ``d``, rounded
    half to even on a's exact value; d = -1 when that cannot be told here (Python does)."""
    # the decimal exponent from the binary one (2**(x-1) <= a < 2**x), then a * 10**(9-e)
    e = int(np.floor((math.frexp(a)[1] - 1) * 0.30102999566398120))
    e += a >= _POW[301 + e]
    m = a * _POW[309 - e]
    d = np.floor(m + 0.5)
    if d >= 1e10:
        e += 1
        m = a * _POW[309 - e]
        d = np.floor(m + 0.5)
    elif d < 1e9:
        e -= 1
        m = a * _POW[309 - e]
        d = np.floor(m + 0.5)
    if d < 1e9 or d >= 1e10:
        return np.int64(-1), e
    if abs(m - np.floor(m) - 0.5) < 1e-4:       # near a tie: decide on the exact value
        k = 9 - e
        if k > 22 or k < -22:
            return np.int64(-1), e
        down = np.floor(m)
        if k >= 0:      # a * 10**k against down + 1/2, the product kept exact in two parts
            high, low = _product(a, _TEN[k])
            above = (high - (down + 0.5)) + low
        else:           # a against (down + 1/2) * 10**-k
            high, low = _product(down + 0.5, _TEN[-k])
            above = (a - high) - low
        d = down + 1 if above > 0 or (above == 0 and down % 2 == 1) else down
        if d >= 1e10:
            return np.int64(1e9), e + 1
    return np.int64(d), e


@numba.njit(cache=True)
def _product(x, y):
    """``x * y`` as the double nearest it and the exact remainder (Dekker's product: each
    factor split in halves of 26 bits, whose products are exact)."""
    p = x * y
    cx = 134217729.0 * x            # 2**27 + 1
    xh = cx - (cx - x)
    xl = x - xh
    cy = 134217729.0 * y
    yh = cy - (cy - y)
    yl = y - yh
    return p, ((xh * yh - p) + xh * yl + xl * yh) + xl * yl


@numba.njit(cache=True)
def _parsed(digits, exp10, negative):
    """The double nearest ``[-]digits * 10**exp10`` (``digits`` < 2**53), as pandas' parser
    (fast_float) and Python's ``float`` read the text: one multiplication or division by an
    exact power of ten rounds correctly. NaN past 10**22, where no power is exact."""
    if exp10 > 22 or exp10 < -22:
        return np.nan
    x = float(digits) * _TEN[exp10] if exp10 >= 0 else float(digits) / _TEN[-exp10]
    return -x if negative else x


@numba.njit(cache=True)
def _put(v, buf, p, digits):
    """'%.10g' % v into ``buf`` at ``p``. Returns the new end (-1: Python must format
    it), the value parsed back and whether the text is an integer ('12', not '1.2' or
    'inf'; pandas reads a column of those as integers)."""
    if np.isnan(v):
        return p, np.nan, False         # read back as pandas' NaN, whatever its bits were
    negative = v < 0 or (v == 0 and np.signbit(v))
    if negative:
        buf[p] = 45     # '-'
        p += 1
    a = abs(v)
    if a == 0:
        buf[p] = 48
        return p + 1, v, True
    if np.isinf(a):
        buf[p], buf[p + 1], buf[p + 2] = 105, 110, 102     # 'inf'
        return p + 3, v, False
    if a < 1e-290 or a > 1e290:
        return -1, v, False
    signed, e = _rounded(a)
    if signed < 0:
        return -1, v, False
    # unsigned: a division by a constant is a multiplication (a signed one, Python's
    # floor semantics, cost twice the whole number's formatting)
    n = np.uint64(signed)
    significand = n     # the digits once trailing zeros go
    shown = 10
    while significand % np.uint64(10) == 0:
        significand //= np.uint64(10)
        shown -= 1
    for i in range(8, -1, -2):     # two digits a division
        pair = np.uint64(2) * (n % np.uint64(100))
        n //= np.uint64(100)
        digits[i], digits[i + 1] = _PAIRS[pair], _PAIRS[pair + np.uint64(1)]
    value = _parsed(np.int64(significand), e - shown + 1, negative)
    # all ten digits are written (a fixed count, unrolled), the end set after them: the
    # bytes past it are written over by what follows
    if -4 <= e < 0:     # '0.', -e-1 zeros, the digits
        buf[p], buf[p + 1], buf[p + 2], buf[p + 3], buf[p + 4] = 48, 46, 48, 48, 48
        p += 1 - e
        for i in range(10):
            buf[p + i] = digits[i]
        return p + shown, value, False
    if 0 <= e < 10:     # the integer part, a '.' and the fraction if there is one
        for i in range(10):
            buf[p + i + (i > e)] = digits[i]
        if shown > e + 1:
            buf[p + e + 1] = 46
            return p + shown + 1, value, False
        return p + e + 1, value, True
    buf[p] = digits[0]
    p += 1
    if shown > 1:
        buf[p] = 46
        p += 1
        for i in range(1, shown):
            buf[p] = digits[i]
            p += 1
    buf[p] = 101        # 'e'
    buf[p + 1] = 45 if e < 0 else 43
    p += 2
    x = abs(e)
    if x >= 100:
        buf[p] = 48 + x // 100
        p += 1
    buf[p], buf[p + 1] = 48 + (x // 10) % 10, 48 + x % 10
    return p + 2, value, False


@numba.njit(cache=True)
def render_rows(floats, texts, offsets, widths, kinds, buf, hard, parsed, fraction):
    """Rows of cells joined by commas, each ended by a newline: a float column's number,
    a text column's bytes up to its padding (``kinds[c]``: float column ``k >= 0``, text
    column ``-1 - k``). Numbers Python must format are left out, their place in ``buf``
    and flat position in ``floats`` listed in ``hard[0]`` and ``hard[1]``. ``parsed``
    (same shape as ``floats``, or empty) receives each number as read back, but those
    Python must read (flat positions in ``hard[2]``); ``fraction[k]`` is set when a cell of
    float column k is empty or not an integer. Returns the length and the two counts."""
    digits = np.empty(10, np.uint8)
    keep = parsed.shape[0] > 0
    p = 0
    n_hard = 0
    n_loose = 0
    n_floats = floats.shape[1]
    for r in range(texts.shape[0]):
        for c in range(kinds.shape[0]):
            if c:
                buf[p] = 44
                p += 1
            k = kinds[c]
            if k >= 0:
                q, value, whole = _put(floats[r, k], buf, p, digits)
                if q < 0:       # Python writes it, reads it back and says if it is whole
                    hard[0, n_hard] = p
                    hard[1, n_hard] = r * n_floats + k
                    n_hard += 1
                    continue
                p = q
                if keep:
                    parsed[r, k] = value
                    if np.isnan(value) and not np.isnan(floats[r, k]):
                        hard[2, n_loose] = r * n_floats + k
                        n_loose += 1
                if not whole:
                    fraction[k] = True
            else:
                j = -1 - k
                for i in range(offsets[j], offsets[j] + widths[j]):
                    if texts[r, i] == 0:
                        break
                    buf[p] = texts[r, i]
                    p += 1
        buf[p] = 10
        p += 1
    return p, n_hard, n_loose
