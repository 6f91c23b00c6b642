"""``python -m neuromotif``: the same command line as the ``neuromotif`` script."""

import sys

from neuromotif.cli import main

sys.exit(main())
