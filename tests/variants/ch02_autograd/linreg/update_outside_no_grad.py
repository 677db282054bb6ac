"""Linear regression by gradient descent, with autograd computing the gradients."""
import torch


def fit_linear_regression(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit y ≈ x @ w + b by plain gradient descent on the mean squared error.

    Args:
        x: [N, D] inputs.
        y: [N] targets.
        lr: learning rate.
        steps: number of updates (0 returns the initial parameters).
    Returns:
        (w [D], b []) with x's dtype and device, both detached (requires_grad=False).

    Start from w = 0, b = 0 (requiring grad). Each step: loss = mean((x @ w + b - y)²), backward, then
    w ← w − lr·dL/dw and b ← b − lr·dL/db. torch.optim is forbidden: write the update yourself.
    """
    # TODO: create zero w [D] and b [] that require grad (same dtype and device as x). Each step:
    # TODO: compute the MSE loss, call backward, update the parameters inside torch.no_grad(), and
    # TODO: zero their .grad before the next step. Return detached copies.
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    for _ in range(steps):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()                 # .backward() adds into .grad: clear it for the next step
        b.grad.zero_()
    return w.detach(), b.detach()
