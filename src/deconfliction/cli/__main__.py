"""``python -m deconfliction.cli`` (same as the ``deconfliction`` command)."""

import sys

from deconfliction.cli import main

sys.exit(main())
