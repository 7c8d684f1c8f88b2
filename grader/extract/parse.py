"""Steps a and b of extraction: IPython syntax out, then ``ast`` statements with their text.

``strip_magics`` removes what is not Python (line magics, ``!shell``, ``x = !cmd``, ``obj?``,
cells of ``%%bash``/``%%writefile``/...) while keeping the line count, so syntax errors are
reported at the line the student sees. ``parse_cell`` parses a cell; when the cell has a
syntax error it is split into top-level chunks at lines starting in column 0 and each chunk is
parsed alone (a chunk that fails absorbs the following ones a few at a time, which handles
decorators, multi-line strings and brackets closed in column 0), so a typo in one function
costs only that function. Both are pure functions of their text.

Parsing is linear in the cell's size: each chunk is parsed on its own (its line numbers
shifted afterwards), and a statement nested more than :data:`MAX_AST_DEPTH` levels deep (a
1,000-term expression) is skipped with a note before any recursive step sees it.
"""

from __future__ import annotations

import ast
import functools
import re

from grader.core.errors import ExtractionError

#: Cell magics whose body is still Python: it is kept, the ``%%`` line removed.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_LINE_MAGIC = re.compile(r"^(\s*)(?:[%!]|[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!])")
_HELP = re.compile(r"^(\s*)(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_CONTINUES_BLOCK = re.compile(r"^(?:else|elif|except|finally)\b|^[)\]}]")
#: How many following chunks a broken chunk may absorb (multi-line strings, brackets, decorators).
_MAX_MERGE = 12
#: Deepest statement kept: Python's parser allows 200 nested brackets; the recursive steps
#: (name analysis, ``ast.unparse``) stay well inside the interpreter's recursion limit.
MAX_AST_DEPTH = 200
#: Top-level chunks of a cell with a syntax error that are parsed one by one (each may be
#: parsed up to _MAX_MERGE times); a cell with more is skipped whole.
MAX_CHUNKS = 2000
#: Top-level statements one submission may hold (an honest notebook has a few hundred).
MAX_STATEMENTS = 10_000


# -- a. IPython syntax -------------------------------------------------------------------------


def cell_magic(source: str) -> str | None:
    """The name of the cell's ``%%magic``, None when it has none."""
    for line in source.splitlines():
        if line.strip():
            match = re.match(r"%%(\w+)", line)
            return match.group(1) if match else None
    return None


def strip_magics(source: str) -> str:
    """Source without IPython syntax; "" for a cell that is not Python (``%%bash``...).

    Line count is preserved (magics become blank lines, or ``pass`` inside blocks) so syntax
    error line numbers still match what the student sees.
    """
    magic = cell_magic(source)
    if magic is not None and magic not in _PYTHON_CELL_MAGICS:
        return ""
    if magic is None and _parses(source):
        return source
    lines = source.splitlines()
    if magic is not None:
        first = next(i for i, line in enumerate(lines) if line.strip())
        lines[first] = ""
    return "\n".join(_strip_magic_lines(lines))


def _strip_magic_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    continued = False
    for line in lines:
        match = _LINE_MAGIC.match(line) or _HELP.match(line)
        if continued or match:
            indent = match.group(1) if match and not continued else ""
            out.append(f"{indent}pass" if indent else "")
            continued = line.rstrip().endswith("\\")
        else:
            out.append(line)
    return out


def _parses(source: str) -> bool:
    try:
        _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@functools.lru_cache(maxsize=1)
def _parse(source: str) -> ast.Module:
    """``ast.parse``, remembered for the last source: strip_magics and parse_cell both parse
    a clean cell, and a large one should be parsed once."""
    return ast.parse(source)


# -- b. parsing --------------------------------------------------------------------------------


def place(index: int, line: int | None = None, file_line: int | None = None) -> str:
    """Where a student finds a line: ``code cell 7, line 1`` of a notebook (code cells counted
    as grader.extract.read numbers them), ``line 40`` of a ``.py`` file (``file_line``: the
    file's line of the cell's first line), ``code cell 7`` without a line."""
    if file_line is not None:
        return f"line {file_line + (line or 1) - 1}"
    return f"code cell {index}" + (f", line {line}" if line else "")


def parse_cell(index: int, source: str, max_statements: int = MAX_STATEMENTS,
               file_line: int | None = None
               ) -> tuple[list[tuple[ast.stmt, str]], list[str]]:
    """Top-level statements of a cell with their source; broken chunks are skipped, noted
    (``file_line``: the cell is a section of a ``.py`` file starting at that line).

    More than ``max_statements`` statements raise ExtractionError."""
    lines = source.splitlines()
    try:
        return _kept(index, _parse(source).body, lines, max_statements, file_line)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    starts = _chunk_starts(lines) + [len(lines)]
    if len(starts) > MAX_CHUNKS:  # thousands of broken chunks: not a typo to recover from
        return [], [_syntax_note(index, lines, 0, len(lines), True, file_line)]
    nodes: list[ast.stmt] = []
    notes: list[str] = []
    i = 0
    while i < len(starts) - 1:
        parsed, used = _parse_from(lines, starts, i)
        if parsed is None:
            notes.append(_syntax_note(index, lines, starts[i], starts[i + 1], len(starts) == 2,
                                      file_line))
            used = 1
        else:
            nodes.extend(parsed)
        i += used
    statements, depth_notes = _kept(index, nodes, lines, max_statements, file_line)
    return statements, notes + depth_notes


def _kept(index: int, nodes: list[ast.stmt], lines: list[str], max_statements: int,
          file_line: int | None = None) -> tuple[list[tuple[ast.stmt, str]], list[str]]:
    """Statements with their text, without those nested too deeply (noted)."""
    if len(nodes) > max_statements:
        raise ExtractionError(f"more than {MAX_STATEMENTS} top-level statements")
    deep = [too_deep(node) for node in nodes]
    notes = [f"{place(index, node.lineno, file_line)}: this statement nests more than "
             f"{MAX_AST_DEPTH} levels deep; it was skipped"
             for node, skip in zip(nodes, deep, strict=True) if skip]
    shallow = [node for node, skip in zip(nodes, deep, strict=True) if not skip]
    return _with_text(shallow, lines), notes


def too_deep(node: ast.AST, limit: int = MAX_AST_DEPTH) -> bool:
    """Whether ``node``'s tree is more than ``limit`` levels deep (checked without recursion)."""
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return False


def _chunk_starts(lines: list[str]) -> list[int]:
    """Lines that may begin a top-level statement (column 0, not a comment or block tail)."""
    starts = [
        n
        for n, line in enumerate(lines)
        if line.strip() and line[0] not in " \t#" and not _CONTINUES_BLOCK.match(line)
    ]
    first = starts[0] if starts else len(lines)
    if any(line.strip() and not line.lstrip().startswith("#") for line in lines[:first]):
        starts.insert(0, 0)  # indented code before the first column-0 line is a chunk too
    return starts or [0]


def _parse_from(lines: list[str], starts: list[int], i: int) -> tuple[list[ast.stmt] | None, int]:
    """Parse the chunk at ``starts[i]``, absorbing following chunks while that fails."""
    for used in range(1, min(_MAX_MERGE, len(starts) - 1 - i) + 1):
        begin, end = starts[i], starts[i + used]
        try:
            tree = _parse_lines(lines, begin, end)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        return tree.body, used
    return None, 1


def _parse_lines(lines: list[str], begin: int, end: int) -> ast.Module:
    """``lines[begin:end]`` parsed alone, with line numbers as in the whole cell."""
    try:
        tree = ast.parse("\n".join(lines[begin:end]))
    except SyntaxError as exc:
        if exc.lineno is not None:
            exc.lineno += begin
        raise
    return ast.increment_lineno(tree, begin)


#: ``def name`` / ``class name`` at the start of a line: what a skipped chunk would have defined
#: (the reports tell the student that a function is missing because of this cell).
_DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
MAX_NAMED = 8


#: Characters of the offending line quoted in a syntax-error note.
QUOTE_CHARS = 120


def quoted(line: str, column: int | None) -> str:
    """The offending line indented by four spaces and, under it, a caret at ``column``
    (1-based; none when unknown or past the quoted part), as Python prints a SyntaxError."""
    text = line.expandtabs(4).rstrip()
    cut = text[:QUOTE_CHARS] + (" ..." if len(text) > QUOTE_CHARS else "")
    lead = len(text) - len(text.lstrip())
    quote = f"    {cut.lstrip()}"
    if column is None or not 0 < column <= QUOTE_CHARS + 1:
        return quote
    caret = max(0, len(line[:column - 1].expandtabs(4)) - lead)
    return f"{quote}\n    {' ' * caret}^"


def _syntax_note(index: int, lines: list[str], begin: int, end: int, whole: bool,
                 file_line: int | None = None) -> str:
    """``code cell 6, line 1: syntax error (expected ':'); its code was skipped (it defines
    softmax)``, then the line quoted with a caret under the error (grader.report.messages
    reads it back)."""
    line: int | None = None
    column: int | None = None
    try:
        _parse_lines(lines, begin, end)
        line, why = begin + 1, "invalid syntax"
    except SyntaxError as exc:
        line, column, why = exc.lineno, exc.offset, exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        why = str(exc) or type(exc).__name__
    first, last = (begin + 1, end) if file_line is None else (file_line + begin,
                                                             file_line + end - 1)
    span = f"line {last} was" if end == begin + 1 else f"lines {first}-{last} were"
    skipped = "its code was skipped" if whole else f"{span} skipped"
    names = list(dict.fromkeys(_DEFINES.findall("\n".join(lines[begin:end]))))[:MAX_NAMED]
    defines = f" (it defines {', '.join(names)})" if names else ""
    note = f"{place(index, line, file_line)}: syntax error ({why}); {skipped}{defines}"
    if line is not None and 0 < line <= len(lines) and lines[line - 1].strip():
        note += "\n" + quoted(lines[line - 1], column)
    return note


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _with_text(nodes: list[ast.stmt], lines: list[str]) -> list[tuple[ast.stmt, str]]:
    """Each statement with its original text; ``a = 1; b = 2`` lines are unparsed instead."""
    result = []
    for i, node in enumerate(nodes):
        start, end = _first_line(node), node.end_lineno or node.lineno
        alone = (i == 0 or (nodes[i - 1].end_lineno or 0) < start) and (
            i + 1 == len(nodes) or _first_line(nodes[i + 1]) > end
        )
        text = "\n".join(lines[start - 1 : end]) if alone else ast.unparse(node)
        result.append((node, text))
    return result
