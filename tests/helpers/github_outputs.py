"""$GITHUB_OUTPUT read as the Actions runner reads it (imported by tests, not a test)."""

from __future__ import annotations

import os
from pathlib import Path


def github_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` ... ``DELIMITER`` blocks, as a dict."""
    found: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            else:
                raise AssertionError(f"{name}: heredoc without its delimiter {delimiter}")
            found[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            found[name] = value_text
    return found


def github_env(folder: Path, **extra: str) -> dict[str, str]:
    """The variables GitHub sets in a job (files in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(CI="true", GITHUB_ACTIONS="true",
               GITHUB_STEP_SUMMARY=str(folder / "summary.md"),
               GITHUB_OUTPUT=str(folder / "output.txt"), **extra)
    return env
