"""Which presynaptic neurons reach which postsynaptic ones (``loihi.dense``, ``loihi.conv``).

The mapper uses these to size cores (fan-in axons, stored synapses) and the event simulator to
count synaptic operations and messages per core. Only synapses whose *effective* weight is
non-zero count (for dense: after Lava's sign-mode clip and LSB truncation). A
``loihi.plastic_dense`` stores *every* synapse of its (out, in) matrix: learning can make any
weight non-zero (a readout that starts at zero is the common case), and a synapse that is not
stored cannot learn. Post and pre indices are flat C-order indices of the node's ``out_shape``
and ``in_shape``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import numpy as np

from ...ir.weights import effective_dense_weights, effective_nonzero, nonzero_test, truncate


class Connectivity:
    """Sparsity structure of one synapse node (``loihi.dense`` or ``loihi.conv``)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.is_conv = node.op == "loihi.conv"
        self.is_plastic = node.op == "loihi.plastic_dense"
        self.n_in = int(np.prod(node.in_shape))
        self.n_out = int(np.prod(node.out_shape))
        self._fanin: np.ndarray | None = None

    @cached_property
    def weights(self) -> np.ndarray:
        """Effective integer weights as int64 (dense: (out, in) after clip/truncation; conv: as
        stored; plastic: the initial weights after the block's one-time truncation). For the
        simulators: the mapper and the report use the non-zero pattern, made from the node's
        narrow weights a block at a time, and never ask for these."""
        n = self.node
        if self.is_conv:
            return np.asarray(n.weight, np.int64)
        if self.is_plastic:
            return truncate(np.asarray(n.weight, np.int64), n.sign_mode, n.num_weight_bits)
        return effective_dense_weights(n.weight, n.num_weight_bits)

    @property
    def nonzero(self) -> np.ndarray:
        """Stored synapses: non-zero effective weights (plastic: all of them), made on each
        call (a boolean copy of the weights: callers that only count use ``fanin_counts``,
        ``fanout_counts`` or ``rows_nonzero``)."""
        if self.is_plastic:
            return np.ones(self.node.weight.shape, bool)
        if self.is_conv:
            return np.asarray(self.node.weight) != 0
        return self.rows_nonzero(slice(None))

    @cached_property
    def _test(self) -> tuple[int | None, int | None]:
        return nonzero_test(self.node.weight, self.node.num_weight_bits)

    def rows_nonzero(self, rows: Any) -> np.ndarray:
        """Dense: the non-zero pattern of the post ``rows`` (a slice or index array), from the
        node's own (narrow) weights, a comparison per weight."""
        if self.is_plastic:
            return np.ones(self.node.weight[rows].shape, bool)
        return effective_nonzero(self.node.weight[rows], self._test)

    def _row_blocks(self) -> Iterator[slice]:
        step = max(1, _BLOCK // max(self.n_in, 1))
        return (slice(a, a + step) for a in range(0, self.n_out, step))

    @property
    def nnz(self) -> int:
        return int(self.fanin_counts().sum())

    @property
    def density(self) -> float:
        return self.nnz / max(self.n_in * self.n_out, 1)

    def fanin_counts(self) -> np.ndarray:
        """Non-zero synapses into each post neuron, (n_out,) int64."""
        if self.is_conv:
            return self._conv_counts().ravel()
        if self._fanin is None:
            out = np.empty(self.n_out, np.int64)
            for b in self._row_blocks():
                out[b] = np.count_nonzero(self.rows_nonzero(b), axis=1)
            self._fanin = out
        return self._fanin

    def fanout_counts(self) -> np.ndarray:
        """Dense: non-zero synapses out of each input, (n_in,) int64 (made a block of rows at a
        time)."""
        out = np.zeros(self.n_in, np.int64)
        for b in self._row_blocks():
            out += np.count_nonzero(self.rows_nonzero(b), axis=0)
        return out

    def _valid_taps(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.node
        (_, h, w), (kh, kw) = n.in_shape, n.weight.shape[2:]
        (_, oh, ow) = n.out_shape
        vy = _valid(oh, kh, h, n.stride[0], n.padding[0], n.dilation[0])
        vx = _valid(ow, kw, w, n.stride[1], n.padding[1], n.dilation[1])
        return vy, vx

    def _conv_counts(self) -> np.ndarray:
        vy, vx = self._valid_taps()
        per_tap = np.count_nonzero(self.nonzero, axis=1)  # (Cout, kH, kW)
        return np.einsum("ckl,yk,xl->cyx", per_tap, vy, vx, optimize=True)

    def fanin(self, rows: np.ndarray) -> np.ndarray:
        """Boolean (n_in,): inputs with at least one non-zero synapse into the post ``rows``."""
        rows = np.asarray(rows, np.int64)
        if not self.is_conv:
            return self.rows_nonzero(_as_slice(rows)).any(0)
        return self._conv_fanin(rows)

    @cached_property
    def _conv_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """Per output channel: input channels (of its group) with a non-zero tap, (Cout, Cin/g),
        and taps with a non-zero weight from any input channel, (Cout, kH, kW)."""
        nz = self.nonzero
        return nz.any((2, 3)), nz.any(1)

    def _conv_fanin(self, rows: np.ndarray) -> np.ndarray:
        """Per group of the rows' output channels: every input channel any of them reads, at
        every input pixel any of their positions reads through a tap any of them uses (the
        axons a core holding these rows receives)."""
        n = self.node
        cin, h, w = n.in_shape
        cout, oh, ow = n.out_shape
        g = n.groups
        cpg, opg = cin // g, cout // g
        chan_of, taps_of = self._conv_masks
        co, pos = np.divmod(rows, oh * ow)
        out = np.zeros((cin, h, w), bool)
        grp_of = co // opg
        (sy, sx), (py, px), (dy, dx) = n.stride, n.padding, n.dilation
        for grp in (np.unique(grp_of) if g > 1 else (0,)):
            sel = grp_of == grp if g > 1 else slice(None)
            present = np.zeros(cout, bool)
            present[co[sel]] = True
            chans = grp * cpg + np.flatnonzero(chan_of[present].any(0))
            at = np.zeros(oh * ow, bool)  # the rows' output positions, each once
            at[pos[sel]] = True
            oy, ox = np.divmod(np.flatnonzero(at), ow)
            ky, kx = np.nonzero(taps_of[present].any(0))  # every tap at every position at once
            iy = (oy * sy - py)[:, None] + (ky * dy)[None, :]
            ix = (ox * sx - px)[:, None] + (kx * dx)[None, :]
            ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            pix = np.zeros((h, w), bool)
            pix[iy[ok], ix[ok]] = True
            out[chans] |= pix
        return out.ravel()

    def pre_core_counts(self, core_of_post: np.ndarray, n_cores: int) -> np.ndarray:
        """(n_in, n_cores) int64: non-zero synapses from each input into each core.

        ``core_of_post`` (n_out,) gives the local core index of every post neuron.
        """
        core_of_post = np.asarray(core_of_post, np.int64)
        if not self.is_conv:
            return self._dense_counts(core_of_post, n_cores)
        return self._conv_transpose(core_of_post, n_cores)

    def _dense_counts(self, core_of_post: np.ndarray, n_cores: int) -> np.ndarray:
        """Dense: per core, the non-zero synapses of its posts' rows, counted per input (rows
        grouped by core; no (n_out, cores) one-hot and no integer copy of the pattern)."""
        sizes = np.bincount(core_of_post, minlength=n_cores)
        order = None
        if core_of_post.size > 1 and (np.diff(core_of_post) < 0).any():
            order = np.argsort(core_of_post, kind="stable")
        out = np.zeros((n_cores, self.n_in), np.int64)
        ends = np.cumsum(sizes)
        for k in np.flatnonzero(sizes):
            a, b = int(ends[k] - sizes[k]), int(ends[k])
            rows = slice(a, b) if order is None else _as_slice(order[a:b])
            out[k] = np.count_nonzero(self.rows_nonzero(rows), axis=0)
        return np.ascontiguousarray(out.T)

    def core_columns(self, core_of_post: np.ndarray, n_cores: int
                     ) -> Iterator[tuple[int, np.ndarray]]:
        """``(k, (n_in,) int64)`` for every core ``k`` holding posts: the columns of
        ``pre_core_counts``, one at a time (a conv never holds the whole (n_in, n_cores)
        table; a dense synapse's table is at most n_in x n_out, so it is made at once)."""
        if not self.is_conv:
            cnt = self.pre_core_counts(core_of_post, n_cores)
            yield from ((k, cnt[:, k]) for k in range(n_cores))
            return
        grid = np.asarray(core_of_post, np.int64).reshape(self.node.out_shape)
        nz = self.nonzero  # (Cout, Cin/g, kH, kW) bool; its sums are int64, products float64
        for k in range(n_cores):
            out = self._conv_core(grid == k, nz)
            yield k, np.rint(out.ravel()).astype(np.int64)

    def _conv_transpose(self, core_of_post: np.ndarray, n_cores: int) -> np.ndarray:
        """Per core, the transposed convolution of its posts' indicator with the non-zero
        pattern (``_conv_core``), as one (n_in, n_cores) table."""
        n = self.node
        out = np.zeros((n_cores, *n.in_shape))
        grid = core_of_post.reshape(n.out_shape)
        nz = self.nonzero  # (Cout, Cin/g, kH, kW) bool; its sums are int64, products float64
        for k in range(n_cores):
            out[k] = self._conv_core(grid == k, nz)
        return np.rint(out.reshape(n_cores, -1).T).astype(np.int64)

    def _conv_core(self, ind: np.ndarray, nz: np.ndarray) -> np.ndarray:
        """(Cin, H, W) float: non-zero synapses from each input into the posts ``ind``
        ((Cout, oh, ow) bool, one core's). The core's positions (row-major) are cut into
        runs holding the same set of output channels (a range of hwc mapping positions has at
        most three: a partial first pixel, whole pixels, a partial last one); for each run,
        the synapses are its per-tap channel sums spread over its pixels shifted by the tap
        (``_conv_pattern``). Cores with more runs than channels take the per-channel route
        (``_conv_channels``). Integer sums in float64: exact."""
        cout, oh, ow = self.node.out_shape
        flat = ind.reshape(cout, oh * ow)
        pix = np.flatnonzero(flat.any(0))
        if pix.size == 0:
            return np.zeros(self.node.in_shape)
        cols = flat[:, pix]
        # runs of consecutive positions holding the same channels (no sort: a run per change)
        starts = np.flatnonzero(np.r_[True, (cols[:, 1:] != cols[:, :-1]).any(0)])
        if starts.size > int(cols.any(1).sum()):
            return self._conv_channels(ind, nz)
        out = np.zeros(self.node.in_shape)
        for a, b in zip(starts.tolist(), [*starts[1:].tolist(), pix.size], strict=True):
            self._conv_pattern(np.flatnonzero(cols[:, a]), pix[a:b], nz, out)
        return out

    def _conv_pattern(self, chans: np.ndarray, pix: np.ndarray, nz: np.ndarray,
                      out: np.ndarray) -> None:
        """Add to ``out`` (Cin, H, W) the synapses into output channels ``chans`` at each of
        the flat output positions ``pix``."""
        n = self.node
        cin, h, w = n.in_shape
        cout, oh, ow = n.out_shape
        kh, kw = nz.shape[2:]
        cpg, opg = cin // n.groups, cout // n.groups
        (sy, sx), (dy, dx), (py, px) = n.stride, n.dilation, n.padding
        pm = np.zeros((oh, ow))
        pm.flat[pix] = 1.0
        oy, ox = np.divmod(pix, ow)
        by0, by1, bx0, bx1 = int(oy.min()), int(oy.max()) + 1, int(ox.min()), int(ox.max()) + 1
        iy0, iy1 = max(0, by0 * sy - py), min(h, (by1 - 1) * sy - py + (kh - 1) * dy + 1)
        ix0, ix1 = max(0, bx0 * sx - px), min(w, (bx1 - 1) * sx - px + (kw - 1) * dx + 1)
        if iy1 <= iy0 or ix1 <= ix0:
            return
        for grp in (np.unique(chans // opg) if n.groups > 1 else (0,)):
            v = nz[chans[chans // opg == grp]].sum(0)  # (Cin/g, kH, kW): per-tap channel sums
            taps, q = [], []
            for ky in range(kh):
                y0, y1, iy = _span(oh, h, sy, ky * dy - py)
                iy += max(0, by0 - y0) * sy
                y0, y1 = max(y0, by0), min(y1, by1)
                for kx in range(kw):
                    x0, x1, ix = _span(ow, w, sx, kx * dx - px)
                    ix += max(0, bx0 - x0) * sx
                    x0, x1 = max(x0, bx0), min(x1, bx1)
                    if y1 <= y0 or x1 <= x0 or not v[:, ky, kx].any():
                        continue
                    shifted = np.zeros((iy1 - iy0, ix1 - ix0))
                    shifted[iy - iy0:iy - iy0 + (y1 - y0 - 1) * sy + 1:sy,
                            ix - ix0:ix - ix0 + (x1 - x0 - 1) * sx + 1:sx] = pm[y0:y1, x0:x1]
                    taps.append(v[:, ky, kx])
                    q.append(shifted.ravel())
            if taps:
                part = np.stack(taps, 1) @ np.stack(q)  # (Cin/g, box)
                out[grp * cpg:(grp + 1) * cpg, iy0:iy1, ix0:ix1] += part.reshape(
                    cpg, iy1 - iy0, ix1 - ix0)

    def _conv_channels(self, ind: np.ndarray, nz: np.ndarray) -> np.ndarray:
        """``_conv_core`` summed over the core's output channels, tap by tap (work ~ its
        channels x positions; for cores whose positions hold many channel sets)."""
        n = self.node
        cin, h, w = n.in_shape
        cout, oh, ow = n.out_shape
        g = n.groups
        cpg, opg = cin // g, cout // g
        out = np.zeros((cin, h, w))
        sy, sx = n.stride
        chans = np.flatnonzero(ind.any((1, 2)))
        if chans.size == 0:
            return out
        rows_at, cols_at = np.flatnonzero(ind.any((0, 2))), np.flatnonzero(ind.any((0, 1)))
        by0, by1 = int(rows_at[0]), int(rows_at[-1]) + 1  # the core's bounding box
        bx0, bx1 = int(cols_at[0]), int(cols_at[-1]) + 1
        for grp in np.unique(chans // opg):
            cs = chans[chans // opg == grp]
            sub_all = ind[cs].astype(np.float64)  # (c, oh, ow)
            for ky in range(n.weight.shape[2]):
                y0, y1, iy0 = _span(oh, h, sy, ky * n.dilation[0] - n.padding[0])
                iy0 += max(0, by0 - y0) * sy
                y0, y1 = max(y0, by0), min(y1, by1)
                for kx in range(n.weight.shape[3]):
                    x0, x1, ix0 = _span(ow, w, sx, kx * n.dilation[1] - n.padding[1])
                    ix0 += max(0, bx0 - x0) * sx
                    x0, x1 = max(x0, bx0), min(x1, bx1)
                    if y1 <= y0 or x1 <= x0:
                        continue
                    m = nz[cs, :, ky, kx]  # (c, Cin/g)
                    if not m.any():
                        continue
                    sub = sub_all[:, y0:y1, x0:x1]
                    part = np.tensordot(m, sub, axes=(0, 0))  # (Cin/g, y, x)
                    ys = slice(iy0, iy0 + (y1 - y0 - 1) * sy + 1, sy)
                    xs = slice(ix0, ix0 + (x1 - x0 - 1) * sx + 1, sx)
                    out[grp * cpg:(grp + 1) * cpg, ys, xs] += part
        return out


#: bytes of weights per block of rows when counting a dense synapse's pattern
_BLOCK = 1 << 22


def _as_slice(rows: np.ndarray) -> Any:
    """``rows`` as a slice when they are consecutive (a view of the weights, not a copy)."""
    if rows.size and int(rows[-1]) - int(rows[0]) == rows.size - 1 and (
            rows.size == 1 or bool((np.diff(rows) == 1).all())):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _valid(o: int, k: int, n: int, s: int, p: int, d: int) -> np.ndarray:
    """(o, k) bool: output position o with tap k reads an in-bounds input."""
    i = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
    return (i >= 0) & (i < n)


def _span(o: int, n: int, s: int, off: int) -> tuple[int, int, int]:
    """Outputs [o0, o1) whose input o*s + off lies in [0, n), and the first such input."""
    o0 = max(0, -(off // s))  # ceil(-off / s)
    o1 = min(o, max(0, -((off - n) // s)))  # ceil((n - off) / s)
    return o0, max(o0, o1), o0 * s + off
