"""A class with planted copies among independent implementations, built from the repository's
own files (imported by tests and the similarity bench, not a test).

Implementations of each assignment: the reference notebook and each equivalent in
``tests/equivalents/<id>/`` (correct code written differently). Some equivalents were made by
editing the reference (most of backprop's and training's share 70-87% of their own lines with
it, verbatim): those form one *family* with it (:func:`families`). From each implementation,
planted copies as a copier hands them in:

    renamed       every local variable, parameter and helper renamed
    reordered     top-level definitions in reverse order, in one cell
    recommented   comments and docstrings removed, new ones written
    split         one cell per definition, markdown between them
    merged        everything in one cell
    rewritten     one contract function replaced by another family's version (the "donor")
    disguised     all of the above at once

A pair is *planted* when both sides come from the same implementation, *independent* when
their families (the donor's included) are disjoint.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import shutil
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.core.course import Assignment
from grader.extract.read import read_cells

TRANSFORMS = ("renamed", "reordered", "recommented", "split", "merged", "rewritten",
              "disguised")
#: Two implementations are one family when this share of the smaller one's own lines (at least
#: 12 characters, not comments or docstrings, not the stub's) are the other's, verbatim.
FAMILY_SHARE = 0.6
_DOCSTRING = re.compile(r'(?s)("""|\'\'\').*?\1')
_TRAILING_COMMENT = re.compile(r"\s+#[^'\"\n]*$")
_NOT_CODE = ("#", '"""', "'" * 3)


@dataclass(frozen=True)
class Member:
    """One student of the corpus: their code cells and the families the code came from."""

    student: str
    origin: str
    family: str
    donor_family: str | None
    cells: tuple[str, ...]

    @property
    def lineage(self) -> frozenset[str]:
        return frozenset({self.family, self.donor_family or self.family})


def sources(assignment: Assignment, root: Path) -> dict[str, tuple[str, ...]]:
    """The implementations on hand: name -> code cells."""
    found = {"reference": tuple(c.source for c in read_cells(assignment.reference))}
    for path in sorted((root / "tests" / "equivalents" / assignment.id).glob("*.py")):
        found[path.stem] = tuple(c.source for c in read_cells(path))
    return found


def own_lines(cells: tuple[str, ...], given: set[str]) -> set[str]:
    """Non-trivial code lines, stripped, less the ``given`` ones."""
    found = set()
    for cell in cells:
        for line in cell.splitlines():
            text = line.strip()
            if len(text) >= 12 and not text.startswith(_NOT_CODE):
                found.add(text)
    return found - given


def families(originals: dict[str, tuple[str, ...]], stub: tuple[str, ...]) -> dict[str, str]:
    """name -> family (a name of the family): an implementation written by editing another
    shares most of its lines with it verbatim, names and all (FAMILY_SHARE)."""
    given = own_lines(stub, set())
    lines = {name: own_lines(cells, given) for name, cells in originals.items()}
    family = {name: name for name in originals}
    names = list(originals)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            smaller = min(len(lines[a]), len(lines[b])) or 1
            if len(lines[a] & lines[b]) / smaller >= FAMILY_SHARE:
                old, new = family[b], family[a]
                family = {n: new if f == old else f for n, f in family.items()}
    return family


def corpus(assignment: Assignment, root: Path) -> list[Member]:
    """Every implementation and its planted copies (the rewritten function from the next
    implementation of another family)."""
    originals = sources(assignment, root)
    family = families(originals, tuple(c.source for c in read_cells(assignment.stub)))
    names = list(originals)
    members = [Member(name, name, family[name], None, cells)
               for name, cells in originals.items()]
    for i, name in enumerate(names):
        donor = next(n for n in names[i + 1:] + names[:i] if family[n] != family[name])
        for how in TRANSFORMS:
            cells, donated = _copy(how, originals[name], originals[donor], assignment)
            members.append(Member(f"{name}~{how}", name, family[name],
                                  family[donor] if donated else None, cells))
    return members


def _copy(how: str, cells: tuple[str, ...], donor_cells: tuple[str, ...],
          assignment: Assignment) -> tuple[tuple[str, ...], bool]:
    """The copy's cells, and whether the donor's code is in it."""
    keep = set(assignment.functions)
    if how == "renamed":
        return rename(cells, keep), False
    if how == "reordered":
        return ("\n\n".join(reversed(chunks(cells))),), False
    if how == "recommented":
        return recomment(cells), False
    if how == "split":
        return tuple(chunks(cells)), False
    if how == "merged":
        return ("\n\n".join(chunks(cells)),), False
    rewritten = rewrite(cells, donor_cells, assignment)
    if how == "rewritten":
        return rewritten, True
    return tuple(reversed(chunks(recomment(rename(rewritten, keep))))), True


def chunks(cells: tuple[str, ...]) -> list[str]:
    """Top-level statements of the cells, each with the comment lines just above it."""
    found = []
    for cell in cells:
        lines = cell.splitlines()
        nodes = ast.parse(cell).body
        starts = [min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]) - 1
                  for n in nodes]
        for i, start in enumerate(starts):
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            end = nodes[i].end_lineno or start + 1
            found.append("\n".join(lines[start:end]))
    return found


def rename(cells: tuple[str, ...], keep: set[str]) -> tuple[str, ...]:
    """Every local variable, parameter and helper definition renamed (not the contract's)."""
    tree = ast.parse("\n\n".join(cells))
    imported = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    names -= keep | imported | set(dir(builtins)) | set(keyword.kwlist) | {"self"}
    names = {n for n in names if not n.startswith("__")}
    return tuple(_renamed(cell, names) for cell in cells)


def _renamed(source: str, names: set[str]) -> str:
    """``source`` with each NAME token in ``names`` (not after a dot) renamed, by position."""
    lines = source.splitlines(keepends=True)
    hits = []
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in names and previous != ".":
            hits.append(token.start)
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = token.string
    for row, col in sorted(hits, reverse=True):
        line = lines[row - 1]
        name = re.match(r"\w+", line[col:]).group()  # type: ignore[union-attr]
        lines[row - 1] = f"{line[:col]}my_{name.strip('_')}_2{line[col + len(name):]}"
    return "".join(lines)


def recomment(cells: tuple[str, ...]) -> tuple[str, ...]:
    """Comments and docstrings replaced: what a copier does first."""
    out = []
    for cell in cells:
        text = _DOCSTRING.sub('"""Written on my own."""', cell)
        lines = []
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            line = _TRAILING_COMMENT.sub("", line)
            if line.lstrip().startswith(("def ", "class ")):
                indent = line[:len(line) - len(line.lstrip())]
                lines.append(f"{indent}# I worked this out in the lab session")
            lines.append(line)
        out.append("\n".join(lines))
    return tuple(out)


def rewrite(cells: tuple[str, ...], donor_cells: tuple[str, ...], assignment: Assignment
            ) -> tuple[str, ...]:
    """The first contract definition that the donor writes differently, replaced by the
    donor's version of it."""
    ours, theirs = _definitions(cells), _definitions(donor_cells)
    name = next(n for n in assignment.functions
                if n in ours and n in theirs and ours[n] != theirs[n])
    return tuple(cell.replace(ours[name], theirs[name]) for cell in cells)


def _definitions(cells: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for text in chunks(cells):
        node = ast.parse(text).body[0]
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = "\n".join(line for line in text.splitlines()
                                         if not line.lstrip().startswith("#")
                                         or line.startswith(" "))
    return found


def write_class(members_by_assignment: dict[str, list[Member]], folder: Path,
                stubs: list[tuple[str, Path]]) -> Path:
    """``folder/<student>/<assignment>.ipynb`` for every member (markdown between cells, as
    a notebook has), and each (student, untouched stub) of ``stubs``."""
    for assignment_id, members in members_by_assignment.items():
        for member in members:
            target = folder / member.student / f"{assignment_id}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            notebook = nbformat.v4.new_notebook()
            for i, source in enumerate(member.cells):
                notebook.cells.append(nbformat.v4.new_markdown_cell(f"Part {i + 1}"))
                notebook.cells.append(nbformat.v4.new_code_cell(source))
            nbformat.write(notebook, str(target))
    for student, stub in stubs:
        target = folder / student / stub.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stub, target)
    return folder
