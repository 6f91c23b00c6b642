"""The SC-ML ring of motifs, indexed once (numpy).

A layer of N = K * m neurons is K motifs of m neurons on a ring; motif k receives from motif
k-1, itself and k+1. Its recurrent weights as blocks ``[K, m, 3m]`` (rows: motif k's neurons;
columns: motif k-1 | motif k | motif k+1) or as an (post x pre) N x N CSR matrix; with two
motifs, k-1 and k+1 are the same motif (kept as k-1); with one, only the motif itself.
The torch layers use the same block order (``search/scml.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

RING_SHIFTS = (-1, 0, 1)  # block order: from motif k-1 | k | k+1


def blocks_to_csr(blocks: np.ndarray) -> sp.csr_matrix:
    """Motif blocks [K, m, 3m] -> (post x pre) N x N CSR (duplicates summed, zeros dropped);
    any numeric dtype (the compiler passes quantized integers)."""
    k, m = blocks.shape[0], blocks.shape[1]
    rows, cols, vals = [], [], []
    for part, shift in enumerate(RING_SHIFTS):
        block = blocks[:, :, part * m : (part + 1) * m]
        motif, row, col = np.nonzero(block)  # only the synapses: all K m 3m index triples cost GBs at 10^6
        rows.append(motif * m + row)
        cols.append((motif + shift) % k * m + col)
        vals.append(block[motif, row, col])
    mat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(k * m, k * m))
    mat.sum_duplicates()
    mat.eliminate_zeros()
    return mat


def csr_to_blocks(w: sp.spmatrix, motif_size: int, dtype: type = np.float64) -> np.ndarray | None:
    """(post x pre) N x N matrix -> blocks [K, m, 3m]; None when some synapse is not between ring
    neighbours (or the matrix is not square, or m does not divide N, or m <= 1)."""
    n, m = w.shape[0], motif_size
    if w.shape != (n, n) or m <= 1 or n % m:
        return None
    k = n // m
    coo = sp.coo_matrix(w)
    post_k, pre_k = coo.row // m, coo.col // m
    offset = (pre_k - post_k) % k
    part = np.full(len(offset), -1)
    part[offset == 1] = 2  # from motif k+1
    part[offset == k - 1] = 0  # from motif k-1 (with two motifs, k+1 is the same motif: kept as k-1)
    part[offset == 0] = 1  # from itself
    if (part < 0).any():
        return None
    blocks: np.ndarray = np.zeros((k, m, 3 * m), dtype)
    blocks[post_k, coo.row % m, part * m + coo.col % m] = coo.data
    return blocks
