"""Data-parallel training and search over processes and machines with ``torch.distributed``.

Started by ``torchrun`` (which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), every
``neuromotif search|train|run`` joins one process group: gloo on CPU, nccl with ``--device
cuda`` (each rank on GPU LOCAL_RANK). Without torchrun nothing changes: one process, no group.

Equivalence with one process: every rank draws the same global batch order (the seeded
generator of the trainer or search) and cuts each global batch into ``M`` micro-batches
``batch[j::M]`` (``train.micro_batches``; under torchrun at least the world size, a multiple of
it); rank r computes micro-batches r, r + W, ... and the gradient is the sum over micro-batches
of grad_j x n_j / n_batch, the gradient of the loss averaged over the global batch. One process
with the same ``train.micro_batches`` computes the very same products and sums (same micro-batch
shapes, so the same BLAS kernels; with 2 ranks the one cross-rank addition is exact): training
and search give bit-identical weights and architectures on 1 and 2 processes. Spiking networks
are chaotic in float rounding (one threshold crossing changes every later gradient), so this is
what makes "the same result" hold, not a tolerance. Intrinsic plasticity sums firing rates the
same way. Only rank 0 writes files (checkpoints, history, model.pt, the run directory);
checkpoints hold no per-rank state, so a run resumes under any world size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Group:
    """This process's place in the job: ``rank`` of ``world`` (1: no process group)."""

    rank: int = 0
    world: int = 1

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def micro_batches(self, batch: np.ndarray, micro: int) -> list[np.ndarray]:
        """This rank's micro-batches of a global batch (every one of them in one process)."""
        return [batch[j::micro] for j in range(self.rank, micro, self.world)]

    def accumulate(self, params, micro_grads) -> None:
        """Set every ``p.grad`` to the sum over all ranks' micro-batches of grad_j x n_j / n_batch.

        ``micro_grads``: an iterable that runs this rank's micro-batch backward passes, yielding
        each one's weight n_j / n_batch after its backward (grads of one micro-batch at a time)."""
        params = list(params)
        total = None
        for weight in micro_grads:
            flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
            total = flat * weight if total is None else total + flat * weight
            for p in params:
                p.grad = None
        if total is None:
            total = torch.cat([torch.zeros_like(p).reshape(-1) for p in params])
        if self.enabled:
            dist.all_reduce(total)
        offset = 0
        for p in params:
            p.grad = total[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (a copy; unchanged without a group)."""
        out = values.detach().clone()
        if self.enabled:
            dist.all_reduce(out)
        return out

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


_GROUP = Group()


def current() -> Group:
    return _GROUP


def setup(device: str = "cpu") -> Group:
    """Join the torchrun job (once per process); a plain process is rank 0 of 1."""
    global _GROUP
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _GROUP
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    _GROUP = Group(dist.get_rank(), dist.get_world_size())
    return _GROUP


def micro_count(configured: int, group: Group) -> int:
    """Micro-batches per global batch: ``train.micro_batches``, or the world size when that is 1."""
    from neuromotif.core.errors import InputError

    if configured == 1:
        return group.world
    if configured % group.world:
        raise InputError(
            f"train.micro_batches {configured} is not a multiple of the {group.world} processes: "
            f"use {group.world * max(1, configured // group.world)} or leave it at 1"
        )
    return configured


def resumed_micro_count(saved: int | None, current: int, group: Group, what: str) -> int:
    """The micro-batch count a resumed run continues with: the interrupted run's (``saved``, from its
    checkpoint), so that a resume on another number of processes computes the same sums; refused when
    this world size cannot split it. Checkpoints from before it was recorded keep ``current``."""
    from neuromotif.core.errors import InputError

    if saved is None or saved == current:
        return current
    if saved % group.world:
        raise InputError(
            f"{what} was interrupted with {saved} micro-batches per batch; {group.world} processes "
            f"cannot continue it identically: resume on a number of processes that divides {saved}, "
            "or use --force to start over"
        )
    return saved


def device_for(name: str, group: Group) -> str:
    """``cuda`` under torchrun means this rank's GPU (LOCAL_RANK)."""
    if group.enabled and name == "cuda":
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return name
