"""``python -m polyfn.cli``: the ``polyfn`` command without its console script."""

import sys

from polyfn.cli import main

sys.exit(main())
