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
    raise NotImplementedError("mlp_forward_backward: not implemented yet")
