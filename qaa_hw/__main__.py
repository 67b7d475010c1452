"""``python -m qaa_hw``: the same as the ``qaa_hw`` command."""

import sys

from qaa_hw.cli.main import main

sys.exit(main())
