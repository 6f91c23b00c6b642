"""neuromotif: recurrent spiking networks from architecture search to simulated Loihi deployment.

One import namespace, four parts (the folders stay at the top of the repository):

- ``neuromotif.search`` (``search/``): datasets, the SC-ML network, HRMAS, training. Torch.
- ``neuromotif.deploy`` (``deploy/``): quantize, compile, bundle, backends, divergence. Numpy, no torch.
- ``neuromotif.hw_models`` (``hw_models/``): chip specs, resources, mapping, cost. Imports nothing of ours.
- ``neuromotif`` itself: the app layer (``cli``, ``config``, ``stages``, ``simulation``, ``run``,
  ``report``) and the plumbing every part shares (``errors``, ``io``, ``progress``, ``plotting``,
  ``versions``).

Importing this package imports none of its parts (``tests/test_layers.py`` checks it).
"""
from __future__ import annotations


def __getattr__(name: str) -> str:
    if name == "__version__":
        from neuromotif.core.versions import tool_version

        return tool_version()
    raise AttributeError(f"module 'neuromotif' has no attribute {name!r}")
