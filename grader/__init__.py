"""nn-grader: an autograder for neural-network coursework.

The flow of one run (see README.md, "Architecture"):

    discover -> extract (grader.extract) -> run (grader.sandbox + grader.worker)
             -> results (grader.core.results) -> report (grader.report)
"""

__version__ = "0.1.0"
