"""neuromotif search side: datasets, config, the SC-ML network, HRMAS and training.

Importing this package (and ``search.config`` / ``search.data``) must not import torch:
the CLI and the numpy-only backends use them too. Torch lives in the model modules.
"""
