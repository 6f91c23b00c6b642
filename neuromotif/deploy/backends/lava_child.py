"""``python -m neuromotif.deploy.backends.lava_child``: one supervised Lava session (see ``session.py``)."""

from neuromotif.deploy.backends.lava import child_job
from neuromotif.deploy.backends.session import child_main

if __name__ == "__main__":
    child_main(child_job)
