"""$GITHUB_OUTPUT read as the Actions runner reads it (imported by tests, not a test)."""

from __future__ import annotations

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
