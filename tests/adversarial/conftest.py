"""Worker uids of their own for this test process.

Set at collection, before any test (or multiprocessing's forkserver) starts, so every grading
process of this pytest run takes its slot uid from one random block: the survivor checks then
see only this run's workers, even while another test run on the machine grades too.
"""

from __future__ import annotations

import os
import random

os.environ.setdefault("GRADER_UID_BASE", str(62000 + 256 * random.randrange(200)))
