"""Find uses of forbidden APIs in a learner's source without running it.

The runtime guard in the worker catches calls made through the module attribute; this scan catches what
the guard cannot see: names imported under another name before the guard was armed, subclassing a
forbidden class, ``getattr(torch, "cdist")``.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass


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
    findings: dict[tuple[int, str], Finding] = {}

    def flag(node: ast.AST, api: str) -> None:
        line = getattr(node, "lineno", 0)
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        findings.setdefault((line, api), Finding(line, api, code))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in by_last:
            path = _dotted(node, aliases)
            for api in by_last[node.attr]:
                if path is not None and _same_api(path, api):
                    flag(node, api)
                elif path is None and api.startswith("torch.Tensor."):
                    flag(node, api)       # x.unfold(...): the receiver's type is unknown, the method is not
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                for api in by_last.get(alias.name, []):
                    if _same_api(f"{node.module}.{alias.name}", api):
                        flag(node, api)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in
              ("getattr", "hasattr") and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            for api in by_last.get(str(node.args[1].value), []):
                flag(node, api)
    return sorted(findings.values(), key=lambda f: (f.line, f.api))


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
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None
