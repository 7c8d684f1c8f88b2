"""Code that hides itself from the comparison, and the code it runs where it can be recovered.

A student can run a classmate's code without it appearing as code: as a string handed to
``exec``/``eval``/``compile`` (from a module constant, or from a default argument evaluated
when the ``def`` runs), decoded from base64, hex or a compressed blob first, or reached through
``__import__``/``importlib``. Fingerprints compare code, so such a submission once scored 0.0
similarity to the student it copied. Here every such construct is named (a flag in the
report), and where the string it runs is a literal of the submission (directly, through a
module-level name, or through ``base64``/``bytes.fromhex``/``codecs`` decoding of a literal)
that code is recovered and compared as if it had been written out. Nothing is ever run:
decoding is of data only, and ``zlib``/``marshal`` blobs are flagged, not unpacked.
"""

from __future__ import annotations

import ast
import base64
import binascii

#: calls that turn text into running code
RUNNERS = frozenset({"exec", "eval", "compile"})
#: calls that reach modules or names by a computed string
IMPORTERS = frozenset({"__import__", "import_module"})
#: calls that turn data into text or code
DECODERS = frozenset({"b64decode", "b32decode", "b16decode", "a85decode", "b85decode",
                      "urlsafe_b64decode", "fromhex", "unhexlify", "decompress", "loads",
                      "decode"})
MAX_RECOVERED = 200_000


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literals(tree: ast.Module) -> dict[str, str | bytes]:
    """Module-level ``NAME = "literal"`` (str or bytes)."""
    found: dict[str, str | bytes] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, (str, bytes)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _value(node: ast.AST, names: dict[str, str | bytes], depth: int = 0) -> str | bytes | None:
    """The string ``node`` evaluates to, where that is a literal or a decoding of one."""
    if depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(node.left, names, depth + 1), _value(node.right, names, depth + 1)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(left, bytes) and isinstance(right, bytes):
            return left + right
        return None
    if isinstance(node, ast.Call):
        inner = _value(node.args[0], names, depth + 1) if node.args else None
        if inner is None and isinstance(node.func, ast.Attribute):
            inner = _value(node.func.value, names, depth + 1)  # b"...".decode()
        return _decoded(_name(node), inner)
    return None


def _decoded(how: str, data: str | bytes | None) -> str | bytes | None:
    if data is None:
        return None
    raw = data.encode("latin-1", "replace") if isinstance(data, str) else data
    try:
        if how in ("b64decode", "urlsafe_b64decode"):
            return base64.b64decode(raw, altchars=b"-_" if how.startswith("url") else None)
        if how == "b32decode":
            return base64.b32decode(raw)
        if how in ("b16decode", "unhexlify", "fromhex"):
            return binascii.unhexlify(raw.replace(b" ", b""))
        if how == "decode":
            return raw.decode("utf-8", "replace")
    except (ValueError, binascii.Error):
        return None
    return None


def examine(code: str) -> tuple[list[str], str]:
    """(what hides code, each with its line; the code it runs that could be recovered)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return [], ""
    names = _literals(tree)
    flags: list[str] = []
    recovered: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in RUNNERS or name in IMPORTERS or (name in DECODERS and _feeds_runner(node,
                                                                                      tree)):
            flags.append(f"{name}() at line {node.lineno}")
        if name in RUNNERS and node.args:
            text = _value(node.args[0], names)
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if isinstance(text, str) and text.strip():
                recovered.append(text)
    return sorted(set(flags), key=lambda f: (int(f.rsplit(" ", 1)[1]), f)), \
        "\n\n".join(recovered)[:MAX_RECOVERED]


def _feeds_runner(node: ast.Call, tree: ast.Module) -> bool:
    """Whether this decoding call sits inside the argument of exec/eval/compile."""
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Call) and _name(parent) in RUNNERS and parent.args and \
                any(child is node for child in ast.walk(parent.args[0])):
            return True
    return False
