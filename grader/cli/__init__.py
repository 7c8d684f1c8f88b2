"""The ``grade`` command line: Click parsing only.

main.py declares the verbs (``grade`` is ``grader.cli.main:main``), options.py the shared
flags. Nothing is imported here, so ``python -m grader.cli.main`` runs main.py once (an import
here made runpy warn that the module was already imported)."""
