"""neuromotif: recurrent spiking networks from architecture search to simulated Loihi deployment.

One import namespace, layers bottom to top (docs/design.md; the folders stay at the top of the
repository):

- ``neuromotif.core`` (``neuromotif/core/``): plumbing every layer shares (errors, atomic writes,
  progress, plotting, versions, the settings base). Imports nothing else of ours.
- ``neuromotif.hw_models`` (``hw_models/``): chip specs, number formats, neuron models, resources,
  mapping, cost. Imports nothing of ours.
- ``neuromotif.deploy`` (``deploy/``): quantize, compile, bundle, backends, divergence. Numpy, no torch.
- ``neuromotif.search`` (``search/``): datasets, the SC-ML network, HRMAS, training. Torch.
- ``neuromotif`` itself: the app (``cli``, ``config``, ``stages``, ``simulation``, ``run``,
  ``report``, ...); nothing below imports it.

Importing this package imports none of its parts (``tests/test_layers.py`` checks it).
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from neuromotif.core.versions import tool_version

        return tool_version()
    raise AttributeError(f"module 'neuromotif' has no attribute {name!r}")
