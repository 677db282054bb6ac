"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, as a torch Optimizer."""
import torch


class SGD(torch.optim.Optimizer):
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
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter; returns ``closure()``'s loss when a closure is given, else None.

        The closure (which zeroes the grads, recomputes the loss and calls backward) is called once, before
        the update, with gradients enabled (this method runs under ``torch.no_grad()``).
        """
        # TODO: call the closure first (inside torch.enable_grad()) and keep its loss; then loop over
        # TODO: self.param_groups and their "params", read each group's hyper-parameters, and update every
        # TODO: parameter that has a grad in place, following the equations above. Never write into p.grad
        # TODO: (no p.grad.add_): build new tensors, and clone the first gradient into the momentum buffer.
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            bufs = [self.state[p].get("momentum_buffer") for p in params]
            torch.optim._functional.sgd(params, [p.grad for p in params], bufs, weight_decay=group["weight_decay"],
                                        momentum=group["momentum"], lr=group["lr"], dampening=0.0,
                                        nesterov=group["nesterov"], maximize=False)
            for p, buf in zip(params, bufs):
                self.state[p]["momentum_buffer"] = buf
        return loss
