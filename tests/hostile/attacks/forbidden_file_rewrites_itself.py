"""Hostile submission: uses the forbidden torch.add, and at import rewrites its own file (the sandbox copy and,
where it can reach it, the learner's original) into an honest one, so that a scan of the file afterwards
finds nothing."""
ATTACK = "rewrites its own file at import so that the static scan reads an honest version"
FAILS = ["test_values", "test_dtype", "test_no_forbidden_api"]
PASSES = []
MESSAGE = "forbidden"

import contextlib
import gc

import torch

_HONEST = "def scaled_sum(x, y, alpha):\n    return x + alpha * y\n"
_paths = {__file__}
for _obj in gc.get_objects():          # the worker knows where the learner's original lives
    if type(_obj).__name__ == "Worker" and hasattr(_obj, "display_root"):
        _paths.add(__file__.replace(_obj.root, _obj.display_root, 1))
for _path in _paths:
    with contextlib.suppress(OSError):
        with open(_path, "w") as _f:
            _f.write(_HONEST)


def scaled_sum(x, y, alpha):
    return torch.add(x, y, alpha=alpha)
