"""The straight-through estimator: round in the forward pass, pretend it was the identity backward."""
import torch


class StraightThroughRound(torch.autograd.Function):
    """Rounding whose gradient is passed straight through (used to train quantised networks).

    Use it as ``StraightThroughRound.apply(x)`` for x of any shape and floating dtype.
    Forward: torch.round(x), which rounds halves to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2).
    Backward: the identity, dL/dx = dL/dout everywhere (no clipping to [-1, 1]).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        """Returns torch.round(x) [same shape and dtype as x]."""
        # TODO: round x (halves to even, like torch.round).
        ctx.save_for_backward(x)
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        """grad_output: dL/dout [same shape as x]. Returns dL/dx."""
        # TODO: rounding has zero derivative almost everywhere, which would stop all learning;
        # TODO: return the incoming gradient unchanged instead.
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() <= 1).to(grad_output.dtype)
