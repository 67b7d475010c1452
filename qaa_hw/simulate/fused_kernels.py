"""Numba kernels of the ``fused`` training strategy: one cache-resident pass per block of rows.

Each parallel task takes ``G`` rows of the batch, embeds them (zero-padding and
normalisation) into a ``[2^n, G]`` basis-major block that stays in the CPU cache, and applies
the circuit with the ``G`` rows as the contiguous SIMD axis. A layer applies the rotation
set's gates in order, each on every qubit, dispatched on the gate's kernel id
(:mod:`qaa_hw.circuits.gates`):

* ``RY``: a real rotation on amplitude pairs, two qubits at a time (four amplitudes held in
  registers per pass halve the loads and stores), on the real and imaginary parts apart;
* ``RX``: ``cos(t/2) I - i sin(t/2) X`` on amplitude pairs, two qubits at a time;
* ``RZ``: one diagonal phase ``exp(-i/2 sum_q phi_q z_q(k))`` per basis state;

then the CNOT layer as a row gather between two block buffers, and accumulates the readout.
The only ``B * 2^n`` array written to memory is the final state, kept for the backward when
it is small (the caller decides). ``Im(psi)`` is only touched once a complex gate has run
(``use_im``, and in layer 0 after slot ``first_cplx``).

The backward starts from that final state (or recomputes it), then walks the circuit in
reverse with the adjoint ``lam = dL/dRe(psi) + i dL/dIm(psi)``: every gate is undone on both
``psi`` and ``lam`` (gates are unitary, so the state before a gate is ``G^dagger psi``; no
per-gate state is stored) and its angle gradient ``Re <lam, K psi> / 2`` (``K = -i G``, see
:mod:`qaa_hw.circuits.gates`) is read off the amplitudes after the gate::

    dL/dtheta_q = sum over pairs Re(conj(lam_1) psi_0 - conj(lam_0) psi_1) / 2   (RY)
    dL/dtheta_q = sum_k Im(conj(lam_k) psi_{k ^ 2^q}) / 2                         (RX)
    dL/dphi_q   = sum_k z_q(k) Im(conj(lam_k) psi_k) / 2                          (RZ)

Conventions (:mod:`qaa_hw.circuits.spec`): qubit ``q`` is bit ``q`` of the basis index;
gate matrices as in :mod:`qaa_hw.circuits.gates`; after a CNOT layer amplitude ``j`` is the
old amplitude ``src[j]``. Slot ``k`` of the set is applied in layers ``< applied[k]`` (the
caller never applies the last layer's trailing diagonal gates: they change no readout).

Only :mod:`qaa_hw.simulate.fused` calls these; it validates shapes and dtypes.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_JIT = {"cache": True, "fastmath": True, "nogil": True, "boundscheck": False}


@njit(**_JIT)
def _row_scales(x, row0, rows, inv_norm):
    """``1 / ||x_row||`` of rows ``row0 : row0 + rows`` (1 for all-zero rows and padding)."""
    width = x.shape[1]
    for g in range(inv_norm.shape[0]):
        total = 0.0
        if g < rows:
            for k in range(width):
                v = np.float64(x[row0 + g, k])
                total += v * v
        inv_norm[g] = 1.0 / np.sqrt(total) if total > 0.0 else 1.0


@njit(**_JIT)
def _embed(x, row0, rows, re, inv_norm):
    """Normalised, zero-padded rows ``x[row0:row0+rows]`` into ``re`` (``[D, G]``).

    An all-zero row (and block padding) is embedded as ``|0...0>``.
    """
    re[:] = 0.0
    _row_scales(x, row0, rows, inv_norm)
    for g in range(re.shape[1]):
        zero = True
        if g < rows:
            for k in range(x.shape[1]):
                v = x[row0 + g, k]
                re[k, g] = v * inv_norm[g]
                zero = zero and v == 0.0
        if zero:
            re[0, g] = 1.0


@njit(**_JIT)
def _ry(buf, q, c, s):
    """``RY`` on qubit ``q`` (``c, s`` = cos, sin of half the angle)."""
    dim, width = buf.shape
    step = 1 << q
    for base in range(0, dim, 2 * step):
        for k in range(base, base + step):
            j = k + step
            for g in range(width):
                a0, a1 = buf[k, g], buf[j, g]
                buf[k, g] = c * a0 - s * a1
                buf[j, g] = s * a0 + c * a1


@njit(**_JIT)
def _ry_pair(buf, q, c0, s0, c1, s1):
    """``RY`` on qubit ``q`` (``c0, s0``), then on qubit ``q + 1`` (``c1, s1``)."""
    dim, width = buf.shape
    lo = 1 << q
    hi = lo << 1
    for base in range(0, dim, 4 * lo):
        for k in range(base, base + lo):
            k1, k2 = k + lo, k + hi
            k3 = k2 + lo
            for g in range(width):
                a0, a1, a2, a3 = buf[k, g], buf[k1, g], buf[k2, g], buf[k3, g]
                b0, b1 = c0 * a0 - s0 * a1, s0 * a0 + c0 * a1
                b2, b3 = c0 * a2 - s0 * a3, s0 * a2 + c0 * a3
                buf[k, g] = c1 * b0 - s1 * b2
                buf[k2, g] = s1 * b0 + c1 * b2
                buf[k1, g] = c1 * b1 - s1 * b3
                buf[k3, g] = s1 * b1 + c1 * b3


@njit(**_JIT)
def _ry_layer(buf, cos, sin, k, layer):
    """``RY`` of slot ``k`` of layer ``layer`` on every qubit (angles ``cos, sin [r, L, n]``)."""
    n = cos.shape[2]
    for q in range(0, n - 1, 2):
        _ry_pair(buf, q, cos[k, layer, q], sin[k, layer, q], cos[k, layer, q + 1],
                 sin[k, layer, q + 1])
    if n % 2 == 1:
        _ry(buf, n - 1, cos[k, layer, n - 1], sin[k, layer, n - 1])


@njit(**_JIT)
def _rot_x(r0, i0, r1, i1, c, s):
    """``RX`` on one complex amplitude pair ``(r0 + i i0, r1 + i i1)``."""
    return c * r0 + s * i1, c * i0 - s * r1, c * r1 + s * i0, c * i1 - s * r0


@njit(**_JIT)
def _rx(re, im, q, c, s):
    """``RX`` on qubit ``q`` of the complex block ``re + i im``."""
    dim, width = re.shape
    step = 1 << q
    for base in range(0, dim, 2 * step):
        for k in range(base, base + step):
            j = k + step
            for g in range(width):
                re[k, g], im[k, g], re[j, g], im[j, g] = _rot_x(
                    re[k, g], im[k, g], re[j, g], im[j, g], c, s
                )


@njit(**_JIT)
def _rx_pair(re, im, q, c0, s0, c1, s1):
    """``RX`` on qubit ``q`` (``c0, s0``), then on qubit ``q + 1`` (``c1, s1``)."""
    dim, width = re.shape
    lo = 1 << q
    hi = lo << 1
    for base in range(0, dim, 4 * lo):
        for k in range(base, base + lo):
            k1, k2 = k + lo, k + hi
            k3 = k2 + lo
            for g in range(width):
                r0, i0, r1, i1 = _rot_x(re[k, g], im[k, g], re[k1, g], im[k1, g], c0, s0)
                r2, i2, r3, i3 = _rot_x(re[k2, g], im[k2, g], re[k3, g], im[k3, g], c0, s0)
                re[k, g], im[k, g], re[k2, g], im[k2, g] = _rot_x(r0, i0, r2, i2, c1, s1)
                re[k1, g], im[k1, g], re[k3, g], im[k3, g] = _rot_x(r1, i1, r3, i3, c1, s1)


@njit(**_JIT)
def _rx_layer(re, im, cos, sin, k, layer):
    """``RX`` of slot ``k`` of layer ``layer`` on every qubit (angles ``cos, sin [r, L, n]``)."""
    n = cos.shape[2]
    for q in range(0, n - 1, 2):
        _rx_pair(re, im, q, cos[k, layer, q], sin[k, layer, q], cos[k, layer, q + 1],
                 sin[k, layer, q + 1])
    if n % 2 == 1:
        _rx(re, im, n - 1, cos[k, layer, n - 1], sin[k, layer, n - 1])


@njit(**_JIT)
def _phase(re, im, pc, ps, slot, layer, sign):
    """Multiply basis state ``k`` by ``pc[slot, layer, k] + i sign ps[slot, layer, k]``."""
    for k in range(re.shape[0]):
        c, s = pc[slot, layer, k], sign * ps[slot, layer, k]
        for g in range(re.shape[1]):
            a, b = re[k, g], im[k, g]
            re[k, g] = c * a - s * b
            im[k, g] = s * a + c * b


@njit(**_JIT)
def _gather(dst, src_block, index):
    """``dst[j] = src_block[index[j]]`` row by row."""
    for j in range(dst.shape[0]):
        r = index[j]
        for g in range(dst.shape[1]):
            dst[j, g] = src_block[r, g]


@njit(**_JIT)
def _forward_block(re, im, tmp_re, tmp_im, circuit):
    """Every layer on the block; returns ``(re, im, tmp_re, tmp_im)`` after buffer swaps."""
    kinds, applied, cos, sin, _, pc, ps, first_cplx, ids, src = circuit[:10]
    use_im = circuit[13]
    for layer in range(cos.shape[1]):
        for k in range(kinds.shape[0]):
            if layer >= applied[k]:
                continue
            kind = kinds[k]
            if kind == ids[0]:  # RY
                _ry_layer(re, cos, sin, k, layer)
                if use_im and (layer > 0 or k > first_cplx):  # Im(psi) may be non-zero
                    _ry_layer(im, cos, sin, k, layer)
            elif kind == ids[1]:  # RZ
                _phase(re, im, pc, ps, k, layer, 1.0)
            else:  # RX
                _rx_layer(re, im, cos, sin, k, layer)
        _gather(tmp_re, re, src)
        re, tmp_re = tmp_re, re
        if use_im:
            _gather(tmp_im, im, src)
            im, tmp_im = tmp_im, im
    return re, im, tmp_re, tmp_im


@njit(**_JIT)
def _simulate_block(x, row0, rows, dim, group, circuit):
    """Embed rows ``row0 : row0 + rows`` and run the circuit; buffers and ``1 / ||x||``."""
    re = np.empty((dim, group), x.dtype)
    im = np.zeros((dim, group), x.dtype)
    tmp_re = np.empty((dim, group), x.dtype)
    tmp_im = np.empty((dim, group), x.dtype)
    inv_norm = np.empty(group, np.float64)
    _embed(x, row0, rows, re, inv_norm)
    re, im, tmp_re, tmp_im = _forward_block(re, im, tmp_re, tmp_im, circuit)
    return re, im, tmp_re, tmp_im, inv_norm


@njit(**_JIT)
def _probabilities(re, im, use_im, prob):
    for k in range(re.shape[0]):
        for g in range(re.shape[1]):
            p = re[k, g] * re[k, g]
            if use_im:
                p += im[k, g] * im[k, g]
            prob[k, g] = p


@njit(**_JIT)
def _forward_rows(blk, x, circuit, out, keep, keep_im):
    """Readout of the rows of block ``blk`` into ``out``; the final state into ``keep[blk]``.

    ``keep`` (and ``keep_im`` for complex circuits) are ``[blocks, D, G]``, or empty when the
    backward will recompute the state instead.
    """
    zsign, z_mode, use_im, group = circuit[11:]
    batch = x.shape[0]
    dim, n = zsign.shape
    row0 = blk * group
    rows = min(group, batch - row0)
    re, im, tmp_re, _, _ = _simulate_block(x, row0, rows, dim, group, circuit)
    if keep.shape[0] > 0:
        keep[blk] = re
        if use_im:
            keep_im[blk] = im
    _probabilities(re, im, use_im, tmp_re)
    if z_mode:
        acc = np.zeros((n, group), x.dtype)
        for k in range(dim):
            for i in range(n):
                z = zsign[k, i]
                for g in range(group):
                    acc[i, g] += z * tmp_re[k, g]
        for g in range(rows):
            for i in range(n):
                out[row0 + g, i] = acc[i, g]
    else:
        for g in range(rows):
            for k in range(dim):
                out[row0 + g, k] = tmp_re[k, g]


@njit(parallel=True, **_JIT)
def forward(x, circuit, out, keep, keep_im):
    """Readout of every row of ``x`` (``[B, d]``) into ``out`` (``[B, n]`` or ``[B, 2^n]``).

    ``circuit`` = ``(kinds, applied, cos, sin, nsin, pc, ps, first_cplx, ids, src, inv,
    zsign, z_mode, use_im, G)``: the kernel id of each slot of the rotation set (``[r]``),
    the layers each slot is applied in (``[r]``), cosines, sines and negated sines of half
    the angles (``[r, L, n]``), the diagonal slots' phases (``[r, L, 2^n]``, cosine and
    sine), the first complex slot of layer 0 (``r`` if none), the kernel ids of ``RY``,
    ``RZ`` and ``RX``, the CNOT permutation and its inverse, the Z signs (``[2^n, n]``), Z
    (else probability) readout, complex amplitudes, rows per block.
    """
    for blk in prange(_num_blocks(x, circuit)):
        _forward_rows(blk, x, circuit, out, keep, keep_im)


@njit(**_JIT)
def forward_serial(x, circuit, out, keep, keep_im):
    """:func:`forward` on the calling thread (small batches: no thread-pool wake-up)."""
    for blk in range(_num_blocks(x, circuit)):
        _forward_rows(blk, x, circuit, out, keep, keep_im)


@njit(**_JIT)
def _num_blocks(x, circuit):
    group = circuit[-1]
    return (x.shape[0] + group - 1) // group


@njit(**_JIT)
def _ry_grad_pairs(buf, lam, q, step, rows):
    """``sum (lam_1 psi_0 - lam_0 psi_1)`` over the pairs of qubit ``q`` (or ``q + 1`` too).

    With ``step == 2`` the pass reads four amplitudes at a time and returns the sums of
    qubits ``q`` and ``q + 1``; with ``step == 1`` only qubit ``q`` (second value 0).
    """
    dim = buf.shape[0]
    lo = 1 << q
    zero = buf[0, 0] * 0
    sum0 = 0.0
    sum1 = 0.0
    if step == 1:
        for base in range(0, dim, 2 * lo):
            for k in range(base, base + lo):
                j = k + lo
                part = zero
                for g in range(rows):
                    part += lam[j, g] * buf[k, g] - lam[k, g] * buf[j, g]
                sum0 += part
        return sum0, sum1
    hi = lo << 1
    for base in range(0, dim, 4 * lo):
        for k in range(base, base + lo):
            k1, k2 = k + lo, k + hi
            k3 = k2 + lo
            part0 = zero
            part1 = zero
            for g in range(rows):
                a0, a1, a2, a3 = buf[k, g], buf[k1, g], buf[k2, g], buf[k3, g]
                l0, l1, l2, l3 = lam[k, g], lam[k1, g], lam[k2, g], lam[k3, g]
                part0 += l1 * a0 - l0 * a1 + l3 * a2 - l2 * a3
                part1 += l2 * a0 - l0 * a2 + l3 * a1 - l1 * a3
            sum0 += part0
            sum1 += part1
    return sum0, sum1


@njit(**_JIT)
def _ry_layer_grads(buf, lam, rows, grad):
    """Add ``dL/dtheta_q`` of one ``RY`` layer into ``grad[q]`` (``psi``, ``lam`` after it).

    The layer's rotations commute, so every gradient can be read after the whole layer:
    ``dL/dtheta_q = <lam, J_q psi> / 2``.
    """
    n = grad.shape[0]
    for q in range(0, n, 2):
        step = 2 if q + 1 < n else 1
        g0, g1 = _ry_grad_pairs(buf, lam, q, step, rows)
        grad[q] += 0.5 * g0
        if step == 2:
            grad[q + 1] += 0.5 * g1


@njit(**_JIT)
def _rx_layer_grads(re, im, lre, lim, rows, grad):
    """Add ``dL/dtheta_q`` of one ``RX`` layer into ``grad[q]`` (``psi``, ``lam`` after it).

    ``dL/dtheta_q = sum_k Im(conj(lam_k) psi_{k ^ 2^q}) / 2``, both members of every pair.
    """
    dim = re.shape[0]
    zero = re[0, 0] * 0
    for q in range(grad.shape[0]):
        lo = 1 << q
        total = 0.0
        for base in range(0, dim, 2 * lo):
            for k in range(base, base + lo):
                j = k + lo
                part = zero
                for g in range(rows):
                    part += lre[k, g] * im[j, g] - lim[k, g] * re[j, g]
                    part += lre[j, g] * im[k, g] - lim[j, g] * re[k, g]
                total += part
        grad[q] += 0.5 * total


@njit(**_JIT)
def _rz_layer_grads(re, im, lre, lim, rows, zsign, t, grad):
    """Set ``dL/dphi_q`` of one ``RZ`` layer into ``grad[q]`` (``psi``, ``lam`` after it)."""
    dim, n = zsign.shape
    for k in range(dim):
        part = re[0, 0] * 0
        for g in range(rows):
            part += lre[k, g] * im[k, g] - lim[k, g] * re[k, g]
        t[k] = part
    for q in range(n):
        total = 0.0
        for k in range(dim):
            total += zsign[k, q] * t[k]
        grad[q] = 0.5 * total


@njit(**_JIT)
def _backward_rows(blk, x, grad_out, circuit, grad_x, grad_parts, keep, keep_im):
    """Gradients of the rows of block ``blk`` (see :func:`backward`).

    Starts from the final state kept by the forward (``keep``), or recomputes it when
    ``keep`` is empty.
    """
    kinds, applied, cos, _, nsin, pc, ps, first_cplx, ids, _, inv = circuit[:11]
    zsign, z_mode, use_im, group = circuit[11:]
    batch, width = x.shape
    dim, n = zsign.shape
    row0 = blk * group
    rows = min(group, batch - row0)
    if keep.shape[0] > 0:  # the forward kept the final state: copy it (backward may rerun)
        re = keep[blk].copy()
        im = keep_im[blk].copy() if use_im else np.zeros((dim, group), x.dtype)
        tmp_re = np.empty((dim, group), x.dtype)
        tmp_im = np.empty((dim, group), x.dtype)
        inv_norm = np.empty(group, np.float64)
        _row_scales(x, row0, rows, inv_norm)
    else:
        re, im, tmp_re, tmp_im, inv_norm = _simulate_block(x, row0, rows, dim, group, circuit)
    lre = np.zeros((dim, group), x.dtype)
    lim = np.zeros((dim, group), x.dtype)
    # lam = 2 psi w with w_k = sum_i g_i z_ki (Z readout) or g_k (probabilities).
    go = np.zeros((zsign.shape[1] if z_mode else dim, group), x.dtype)
    for g in range(rows):
        for i in range(go.shape[0]):
            go[i, g] = 2.0 * grad_out[row0 + g, i]
    for k in range(dim):
        if z_mode:
            w = tmp_re[k]
            w[:] = 0.0
            for i in range(n):
                z = zsign[k, i]
                for g in range(group):
                    w[g] += z * go[i, g]
        else:
            w = go[k]
        for g in range(group):
            lre[k, g] = w[g] * re[k, g]
        if use_im:
            for g in range(group):
                lim[k, g] = w[g] * im[k, g]
    grad = grad_parts[blk]
    t = np.empty(dim, np.float64)
    for layer in range(cos.shape[1] - 1, -1, -1):
        _gather(tmp_re, re, inv)
        re, tmp_re = tmp_re, re
        _gather(tmp_re, lre, inv)
        lre, tmp_re = tmp_re, lre
        if use_im:
            _gather(tmp_im, im, inv)
            im, tmp_im = tmp_im, im
            _gather(tmp_im, lim, inv)
            lim, tmp_im = tmp_im, lim
        # Undo the slots in reverse; a layer's rotations of one slot commute, so every
        # gradient of the slot can be read after the whole slot.
        for k in range(kinds.shape[0] - 1, -1, -1):
            if layer >= applied[k]:
                continue
            kind = kinds[k]
            if kind == ids[0]:  # RY(-theta) on every qubit
                _ry_layer_grads(re, lre, rows, grad[layer, :, k])
                _ry_layer(re, cos, nsin, k, layer)
                _ry_layer(lre, cos, nsin, k, layer)
                # Before the first complex gate Im(psi) is zero: no gradient, nothing to undo.
                if use_im and (layer > 0 or k > first_cplx):
                    _ry_layer_grads(im, lim, rows, grad[layer, :, k])
                    _ry_layer(im, cos, nsin, k, layer)
                    _ry_layer(lim, cos, nsin, k, layer)
            elif kind == ids[1]:  # RZ
                _rz_layer_grads(re, im, lre, lim, rows, zsign, t, grad[layer, :, k])
                _phase(re, im, pc, ps, k, layer, -1.0)
                _phase(lre, lim, pc, ps, k, layer, -1.0)
            else:  # RX(-theta)
                _rx_layer_grads(re, im, lre, lim, rows, grad[layer, :, k])
                _rx_layer(re, im, cos, nsin, k, layer)
                _rx_layer(lre, lim, cos, nsin, k, layer)
    # Back through the normalisation: (lam - (lam . u) u) / ||x||, real part, first d.
    for g in range(rows):
        dot = 0.0
        for k in range(width):
            dot += np.float64(lre[k, g]) * re[k, g]
        for k in range(width):
            grad_x[row0 + g, k] = (lre[k, g] - dot * re[k, g]) * inv_norm[g]


@njit(parallel=True, **_JIT)
def backward(x, grad_out, circuit, grad_x, grad_parts, keep, keep_im):
    """Gradients: ``grad_x`` (``[B, d]``) and per-block angle gradients ``grad_parts``.

    ``circuit`` as for :func:`forward`. ``grad_parts[blk, layer, q, k]`` is the gradient of
    slot ``k``'s angle from the rows of block ``blk`` (zero where the slot is not applied);
    the caller sums over blocks.
    """
    for blk in prange(_num_blocks(x, circuit)):
        _backward_rows(blk, x, grad_out, circuit, grad_x, grad_parts, keep, keep_im)


@njit(**_JIT)
def backward_serial(x, grad_out, circuit, grad_x, grad_parts, keep, keep_im):
    """:func:`backward` on the calling thread (small batches)."""
    for blk in range(_num_blocks(x, circuit)):
        _backward_rows(blk, x, grad_out, circuit, grad_x, grad_parts, keep, keep_im)
