"""Backpropagation by hand: a two-layer classifier's loss and gradients without autograd."""
import torch


def mlp_forward_backward(x: torch.Tensor, y: torch.Tensor, params: dict) -> tuple[torch.Tensor, dict]:
    """Loss and gradients of Linear -> ReLU -> Linear -> softmax cross-entropy, computed by hand.

    Args:
        x: [N, D] inputs (float32 or float64).
        y: [N] class indices (int64) in [0, C).
        params: {"W1": [H, D], "b1": [H], "W2": [C, H], "b2": [C]}, the nn.Linear layout: a layer
            computes z = x @ W.T + b.
    Returns:
        (loss, grads): loss is the mean cross-entropy over the batch, a 0-d tensor; grads is a dict
        with the same keys and shapes as params holding dloss/dparam. All on x's device.

    No autograd: torch.autograd.grad, .backward() and torch.func are forbidden. Use a numerically
    stable softmax (subtract each row's max), so that huge logits stay finite.
    """
    # TODO: forward: z1 = x W1ᵀ + b1, a1 = relu(z1), logits = a1 W2ᵀ + b2, a stable log-softmax and the
    # TODO: mean negative log-likelihood of the true classes.
    # TODO: backward: dlogits = (softmax - one_hot(y)) / N; then dW2, db2, da1; the ReLU passes the
    # TODO: gradient where the pre-activation z1 > 0; then dW1, db1. A weight's gradient has its shape.
    # BEGIN SOLUTION
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = x.shape[0]
    z1 = x @ W1.T + b1                                          # [N, H]
    a1 = z1.clamp_min(0)                                        # [N, H]
    logits = a1 @ W2.T + b2                                     # [N, C]
    shifted = logits - logits.max(dim=1, keepdim=True).values   # exp cannot overflow
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    rows = torch.arange(N, device=x.device)
    loss = -log_probs[rows, y].mean()

    dlogits = log_probs.exp()                                   # softmax, [N, C]
    dlogits[rows, y] -= 1.0
    dlogits /= N                                                # the loss is a mean over the batch
    dW2 = dlogits.T @ a1                                        # [C, H]
    db2 = dlogits.sum(dim=0)                                    # [C]
    da1 = dlogits @ W2                                          # [N, H]
    dz1 = da1 * (z1 > 0).to(da1.dtype)                          # [N, H]
    dW1 = dz1.T @ x                                             # [H, D]
    db1 = dz1.sum(dim=0)                                        # [H]
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION
