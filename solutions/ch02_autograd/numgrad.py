"""Numerical gradients by central differences: the ground truth that autograd is tested against."""
import torch


def numerical_gradient(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Estimate the gradient of a scalar function f at x with central differences.

    grad[i] = (f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps) for every element i of x (any shape), where e_i
    is the i-th unit tensor. The error is O(eps²) (forward differences are only O(eps)).

    Args:
        f: a function of one tensor shaped like x that returns a 0-d tensor or a Python float.
        x: the point, any shape (contiguous), floating point (use float64: eps=1e-6 is far below
            float32 precision). x may be modified while you probe it, but on return it must hold
            exactly its original values, bit for bit.
        eps: the step.
    Returns:
        A new tensor with x's shape, dtype and device: the estimated df/dx.

    No autograd (torch.autograd.grad, .backward()): the point is to compute it from evaluations of f.
    One loop over the elements is fine: two calls of f per element are inherent.
    """
    # TODO: make a zero gradient like x; for every element (iterate over a flat view of x), save its
    # TODO: value, evaluate f at value + eps and at value - eps, write the difference quotient, and put
    # TODO: the saved value back. Convert what f returns to a Python float.
    # BEGIN SOLUTION
    grad = torch.zeros_like(x)
    flat_x, flat_g = x.view(-1), grad.view(-1)   # views: writing flat_x[i] writes x
    for i in range(flat_x.numel()):
        saved = flat_x[i].item()
        flat_x[i] = saved + eps
        f_plus = float(f(x))
        flat_x[i] = saved - eps
        f_minus = float(f(x))
        # restore the saved value: x + eps - 2·eps + eps need not round back to x exactly
        flat_x[i] = saved
        flat_g[i] = (f_plus - f_minus) / (2 * eps)
    return grad
    # END SOLUTION
