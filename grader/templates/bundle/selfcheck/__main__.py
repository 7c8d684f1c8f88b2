"""``python -m selfcheck``: the public checks of every assignment folder's notebook."""

import sys

from selfcheck.cli import main

sys.exit(main())
