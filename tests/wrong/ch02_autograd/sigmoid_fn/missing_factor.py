"""The logistic sigmoid as a custom autograd Function: a forward and its hand-written backward."""

MISTAKE = 'wrong derivative: σ(x) instead of σ(x)(1 − σ(x))'
EXPECT = {'test_backward_float64': 'wrong derivative', 'test_backward_shapes_and_float32': 'wrong derivative',
          'test_backward_matches_forward': 'backward pass disagrees'}
import torch


class Sigmoid(torch.autograd.Function):
    """σ(x) = 1 / (1 + exp(-x)), elementwise, with the derivative dσ/dx = σ(x)·(1 − σ(x)).

    Use it as ``Sigmoid.apply(x)`` for x of any shape, float32 or float64; the result has x's shape,
    dtype and device. Forward must stay finite for large |x| (e.g. ±100 in float32).

    Forbidden inside: every spelling of the built-in sigmoid (torch.sigmoid, Tensor.sigmoid,
    F.sigmoid, torch.special.expit) and autograd calls (torch.autograd.grad, .backward()).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """Returns σ(x) [same shape as x]; save what backward needs with ctx.save_for_backward."""
        # TODO: compute 1 / (1 + exp(-x)) and save the output for backward.
        out = 1.0 / (1.0 + torch.exp(-x))   # exp(-x) -> inf for very negative x gives 1/inf = 0: finite
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """grad_output: dL/dσ [same shape as x]. Returns dL/dx [same shape]."""
        # TODO: chain rule: multiply grad_output by the local derivative σ(1 − σ).
        (out,) = ctx.saved_tensors
        return grad_output * out
