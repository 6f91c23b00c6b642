"""How torch computes: the thread count and the deterministic-algorithms switch (``train.threads``,
``train.deterministic``), applied before any torch work by whatever searches, trains or evaluates
(every verb, each torchrun rank and each Ray worker goes through it).

Torch splits a sum over its threads, so another thread count adds the same numbers in another
order and rounds differently in the last bit; a search amplifies that into another architecture.
A fixed count makes the answer independent of the machine's cores and of ``OMP_NUM_THREADS``;
the default, one thread, is also what every torchrun rank and Ray worker uses.
"""

from __future__ import annotations

from neuromotif.core.progress import warn

_WARNED: set[int] = set()


def apply_execution(threads: int, deterministic: bool = True) -> None:
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if threads > 1 and threads not in _WARNED:
        _WARNED.add(threads)
        warn(
            f"train.threads = {threads}: results may differ in the last bits from runs with another thread "
            "count (train.threads = 1 gives the same answer everywhere)"
        )
