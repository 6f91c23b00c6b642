"""neuromotif.search: datasets, the SC-ML network, HRMAS with SpiKL-IP, training, export.

The torch side. Importing this package (and ``neuromotif.search.data``) must not import torch:
the CLI lists and validates datasets without it. Torch lives in the model modules.
"""
