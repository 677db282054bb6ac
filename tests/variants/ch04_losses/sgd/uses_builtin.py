"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, as a torch Optimizer."""
import torch


class SGD(torch.optim.SGD):
    """SGD exactly like ``torch.optim.SGD`` (with ``dampening=0``), parameter groups included.

    For every parameter p with a gradient (parameters whose ``p.grad`` is None are skipped), one step does,
    with the hyper-parameters of p's group:

        g   = p.grad + weight_decay · p                 (L2 weight decay, folded in before momentum)
        buf = g                        on p's first step  (only when momentum != 0)
        buf = momentum · buf + g       on later steps
        g   = g + momentum · buf       if nesterov, else g = buf   (only when momentum != 0)
        p   = p − lr · g

    The momentum buffer lives in ``self.state[p]["momentum_buffer"]``. ``p.grad`` is never modified: it
    belongs to autograd and to whoever called backward.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) with a "params" entry and any of the
            hyper-parameters below, which then override the defaults for that group.
        lr: learning rate (required, no default).
        momentum: momentum factor (default 0: plain SGD).
        weight_decay: L2 penalty factor (default 0).
        nesterov: use Nesterov momentum (default False).
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        # TODO: pass the hyper-parameters as the `defaults` dict to the base class, which builds
        # TODO: self.param_groups (filling in each group's missing entries) and self.state for you.
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)

    def step(self, closure=None):
        return super().step(closure)
