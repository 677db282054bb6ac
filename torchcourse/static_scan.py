"""Find uses of forbidden APIs in a learner's source without running it.

The runtime guard (``forbidden.py``) refuses the call itself, whichever route reached it; this scan names the
place in the file, so that the learner reads which line to change. It matches a forbidden API by its own
name and by the operators its rule maps it to (``torch.convolution`` for ``F.conv2d``,
``torch.ops.aten._scaled_dot_product_attention_math`` for ``F.scaled_dot_product_attention``), through
import aliases, from-imports, base classes, ``torch._C`` paths, ``X.__dict__["name"]`` / ``vars(X)["name"]``
on torch namespaces, and ``getattr``/``hasattr`` with a name that folds to a constant (``"cd" + "ist"``,
``"".join([...])``, f-strings of constants). A name computed at run time is left to the runtime guard: valid
code does ``getattr(torch, dtype_name)``.

What is scanned is what the worker imported: ``record_copy`` keeps the exact bytes that were copied into
each sandbox, before any learner code ran, and ``copied_source`` returns them; code that rewrites its own
file at import changes nothing here.
"""
from __future__ import annotations

import ast
import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

_COPIED: dict[str, bytes] = {}     # resolved source path -> the bytes last copied into a sandbox


def record_copy(source: Path, data: bytes) -> None:
    """Remember the bytes of ``source`` that were just copied into a sandbox (called by the copy itself)."""
    _COPIED[os.path.realpath(source)] = data


def copied_source(source: Path) -> str | None:
    """The text of ``source`` as it was copied into the learner's sandbox, or None if it never was."""
    data = _COPIED.get(os.path.realpath(source))
    return None if data is None else data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Finding:
    line: int
    api: str
    code: str


def find_forbidden(source: str, forbidden: tuple[str, ...] | list[str]) -> list[Finding]:
    """Every place in ``source`` that names one of the dotted ``forbidden`` APIs (SyntaxError propagates)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    aliases = _import_aliases(tree)
    by_last = {}
    for name in forbidden:
        by_last.setdefault(name.rsplit(".", 1)[-1], []).append(name)
    by_op = _operator_patterns(forbidden)
    findings: dict[tuple[int, str], Finding] = {}

    def flag(node: ast.AST, api: str) -> None:
        line = getattr(node, "lineno", 0)
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        findings.setdefault((line, api), Finding(line, api, code))

    def flag_torch_name(node: ast.AST, path: str | None, name: str) -> None:
        """``name`` reached on torch path ``path``: by its own name, or as an operator behind an API."""
        for api in by_last.get(name, []):
            if path is not None and _same_api(f"{path}.{name}", api):
                flag(node, api)
        if path is not None and path.startswith("torch"):
            for api in _matching(by_op, name):
                flag(node, api)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            path = _dotted(node.value, aliases)
            flag_torch_name(node, path, node.attr)
            if path is None:
                for api in by_last.get(node.attr, []):
                    if api.startswith("torch.Tensor."):
                        flag(node, api)   # x.unfold(...): the receiver's type is unknown, the method is not
        elif isinstance(node, ast.Subscript) and _is_namespace_dict(node.value):
            key = _folded(node.slice)
            if key is not None:
                flag_torch_name(node, _dotted(_namespace_of(node.value), aliases), key)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                for api in by_last.get(alias.name, []):
                    if _same_api(f"{node.module}.{alias.name}", api):
                        flag(node, api)
                if node.module.startswith("torch"):
                    for api in _matching(by_op, alias.name):
                        flag(node, api)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in
              ("getattr", "hasattr") and len(node.args) >= 2):
            name = _folded(node.args[1])
            if name is not None:
                for api in by_last.get(name, []):
                    flag(node, api)
                flag_torch_name(node, _dotted(node.args[0], aliases), name)
    return sorted(findings.values(), key=lambda f: (f.line, f.api))


def _operator_patterns(forbidden) -> dict[str, list[str]]:
    """Operator-name patterns behind each forbidden API (its rule in forbidden.RULES), pattern -> APIs."""
    from torchcourse.forbidden import RULES

    patterns: dict[str, list[str]] = {}
    for api in forbidden:
        rule = RULES.get(api)
        for pattern in (rule.ops if rule else ()):
            patterns.setdefault(pattern, []).append(api)
    return patterns


def _matching(by_op: dict[str, list[str]], name: str) -> list[str]:
    return [api for pattern, apis in by_op.items() if fnmatch.fnmatchcase(name, pattern) for api in apis]


def _is_namespace_dict(node: ast.AST) -> bool:
    """``X.__dict__`` or ``vars(X)``."""
    return (isinstance(node, ast.Attribute) and node.attr == "__dict__") or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars"
        and len(node.args) == 1)


def _namespace_of(node: ast.AST) -> ast.AST:
    return node.value if isinstance(node, ast.Attribute) else node.args[0]


def _folded(node: ast.AST) -> str | None:
    """The string a constant expression evaluates to ("cd" + "ist", "".join([...]), f"{'cd'}ist"), else None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _folded(node.left), _folded(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_folded(v.value if isinstance(v, ast.FormattedValue) and v.conversion == -1
                         and v.format_spec is None else v) for v in node.values]
        return None if None in parts else "".join(parts)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple))):
        sep = _folded(node.func.value)
        parts = [_folded(e) for e in node.args[0].elts]
        return None if sep is None or None in parts else sep.join(parts)
    return None


def _same_api(path: str, api: str) -> bool:
    """``torch.nn.functional.normalize`` matches itself and any other torch path ending in the same name."""
    if path == api:
        return True
    return path.startswith("torch.") and api.startswith("torch.") and \
        path.rsplit(".", 1)[-1] == api.rsplit(".", 1)[-1] and not api.startswith("torch.Tensor.")


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted path an expression names (``F.softmax`` -> torch.nn.functional.softmax), through aliases."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None
