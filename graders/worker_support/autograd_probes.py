"""Worker-side probes for the ch01/ch02 graders (``impl.lib("worker_support.autograd_probes")``): calls that must run
where the learner's code lives because they touch autograd state that cannot cross the wire."""
import torch


def forward_backward(apply, x: torch.Tensor, grad_output: torch.Tensor) -> list:
    """``out = apply(x)`` then ``out.backward(grad_output)``: returns ``[out, x.grad]`` (x must require grad).

    Run with meta inputs it shows whether the learner's backward makes its tensors on the input's device."""
    out = apply(x)
    out.backward(grad_output)
    return [out.detach(), x.grad]


def modified_after_forward(apply, x0: torch.Tensor, grad_output: torch.Tensor) -> list:
    """``y = apply(x)`` for ``x = x0 * 1``, then ``x`` and ``y`` are both doubled in place before
    ``y.backward(grad_output)``.

    Tensors saved with ``ctx.save_for_backward`` carry their version, so autograd refuses the backward
    ("modified by an inplace operation"); a tensor kept on ``ctx`` as an attribute silently gives the gradient
    of the modified values. Returns ``["refused", message]`` or ``["grad", x0.grad]`` (the true gradient is
    ``2 * grad_output * dy/dx`` at ``x0``)."""
    x = x0 * 1
    y = apply(x)
    with torch.no_grad():
        x.mul_(2)
    y.mul_(2)
    try:
        y.backward(grad_output)
    except RuntimeError as e:
        if "modified by an inplace operation" in str(e):
            return ["refused", str(e).splitlines()[0]]
        raise
    return ["grad", x0.grad]
