"""``python -m graphtab.cli``: the ``graphtab`` command."""

import sys

from . import main

sys.exit(main())
