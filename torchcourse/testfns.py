"""Small, deterministic functions that graders pass to learner code (``impl.lib("torchcourse.testfns")``).

They run inside the worker, so they must be plain torch code with no secrets: e.g. the ``f`` handed to a
learner's ``numerical_gradient(f, x)``.
"""
import torch


def cubic_sum(x: torch.Tensor) -> torch.Tensor:
    """sum(x³ − 2x), a 0-d tensor; its gradient is 3x² − 2."""
    return (x ** 3 - 2 * x).sum()


def sin_prod(x: torch.Tensor) -> torch.Tensor:
    """sum(sin(x) · x), a 0-d tensor; its gradient is cos(x)·x + sin(x)."""
    return (torch.sin(x) * x).sum()


def as_float(x: torch.Tensor) -> float:
    """A Python float rather than a tensor: sum(x²)."""
    return float((x ** 2).sum())
