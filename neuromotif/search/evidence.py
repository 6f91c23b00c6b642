"""Architecture decisions from evidence: commit a choice only when its advantage exceeds its noise.

Why: the relaxed search (DARTS) anneals softmax logits into a one-hot choice, and the logits move
by Adam steps on gradients whose noise is as large as their signal. A different float summation
order, thread count or a 1e-6 change of the initial weights then picks another motif size and
half the connection types (``benchmarks/bench_search_stability.py``). Here each architecture step
is a measurement instead: the gradient of the architecture loss with respect to the choice
probabilities ``p`` [..., K] of every decision. For options ``a`` and ``b``, ``g_b - g_a > 0``
says that moving probability from ``b`` to ``a`` lowers the loss. Over the steps we keep, per
decision and per pair, the sum and the sum of squares of that difference; a decision is
committed to ``a`` once its one-sample z-score against every other option exceeds ``z``
(the mean over steps divided by its standard error, sample sd). Committed choices are final (a
ratchet: later noise cannot undo them); a decision never committed takes a stated default.

The sums live in buffers of the layer that owns the decision, so a checkpoint resumes them.
"""

from __future__ import annotations

import itertools

import torch

UNDECIDED = -1


class PairwiseEvidence:
    """Running sums of pairwise gradient differences for a tensor of decisions [*shape, K].

    ``sums`` / ``squares``: [*shape, P] over the P = K(K-1)/2 pairs (a, b), a < b, of
    ``g_b - g_a`` (positive: a is the better option); ``count``: how many steps were added."""

    def __init__(self, sums: torch.Tensor, squares: torch.Tensor, count: torch.Tensor, options: int):
        self.sums, self.squares, self.count = sums, squares, count
        self.pairs = list(itertools.combinations(range(options), 2))
        self.options = options

    @staticmethod
    def buffers(shape: tuple[int, ...], options: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fresh (sums, squares, count) for ``shape`` decisions of ``options`` options (float64)."""
        n_pairs = options * (options - 1) // 2
        zeros = torch.zeros(*shape, n_pairs, dtype=torch.float64)
        return zeros, zeros.clone(), torch.zeros((), dtype=torch.float64)

    @torch.no_grad()
    def add(self, grad: torch.Tensor) -> None:
        """One step's gradient dL/dp [*shape, K] (the whole global batch's)."""
        g = grad.detach().to(torch.float64)
        if not self.pairs:  # one option (the size of a search without motifs): nothing to compare
            self.count += 1
            return
        diff = torch.stack([g[..., b] - g[..., a] for a, b in self.pairs], dim=-1)
        self.sums += diff
        self.squares += diff * diff
        self.count += 1

    @torch.no_grad()
    def z_scores(self) -> torch.Tensor:
        """[*shape, P] mean / standard error of each pair's difference (0 with fewer than 2 steps)."""
        n = float(self.count)
        if n < 2:
            return torch.zeros_like(self.sums)
        mean = self.sums / n
        var = ((self.squares - n * mean * mean) / (n - 1)).clamp_min(0.0)
        se = (var / n).sqrt()
        # identical measurements (se 0) are conclusive when they are not all 0
        return torch.where(se > 0, mean / se.clamp_min(1e-300), mean.sign() * float("inf"))

    @torch.no_grad()
    def decide(self, z: float) -> torch.Tensor:
        """[*shape] the option that beats every other with a z-score above ``z``, else ``UNDECIDED``."""
        scores = self.z_scores()
        wins = torch.full((*scores.shape[:-1], self.options), True)
        for p, (a, b) in enumerate(self.pairs):
            wins[..., a] &= scores[..., p] > z  # a better than b
            wins[..., b] &= -scores[..., p] > z  # b better than a
        decided = wins.any(-1)
        return torch.where(
            decided, wins.to(torch.int64).argmax(-1), torch.full_like(decided, UNDECIDED, dtype=torch.int64)
        )

    @torch.no_grad()
    def margin(self) -> torch.Tensor:
        """[*shape] the best option's smallest z-score against the others (how close to a decision)."""
        scores = self.z_scores()
        best = torch.full((*scores.shape[:-1], self.options), float("inf"), dtype=torch.float64)
        for p, (a, b) in enumerate(self.pairs):
            best[..., a] = torch.minimum(best[..., a], scores[..., p])
            best[..., b] = torch.minimum(best[..., b], -scores[..., p])
        return best.max(-1).values
