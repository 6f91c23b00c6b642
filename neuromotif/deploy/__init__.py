"""neuromotif.deploy: the compiler (float network -> quantize -> map -> check -> bundle) and the
runtimes that execute a bundle (numpy CPU backend, Lava). No torch, no ``neuromotif.search``."""
