"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), as a torch Optimizer."""
import torch


class AdamW(torch.optim.Optimizer):
    """AdamW exactly like ``torch.optim.AdamW`` (``amsgrad=False``), parameter groups included.

    For every parameter p with a gradient g = p.grad (parameters whose ``p.grad`` is None are skipped, and
    their step count does not advance), with the hyper-parameters of p's group and t = p's own step count
    (1 on its first update):

        p   = p · (1 − lr · weight_decay)          decoupled weight decay: the weights shrink directly,
                                                   the gradient never sees the decay
        m   = β1 · m + (1 − β1) · g                first moment, starts at 0
        v   = β2 · v + (1 − β2) · g²               second moment, starts at 0
        m̂   = m / (1 − β1^t),  v̂ = v / (1 − β2^t)  bias correction (m and v start at 0)
        p   = p − lr · m̂ / (√v̂ + eps)

    The state lives in ``self.state[p]`` ("step", "exp_avg", "exp_avg_sq"). ``p.grad`` is never modified.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) with a "params" entry and any of the
            hyper-parameters below, which then override the defaults for that group.
        lr: learning rate (default 1e-3).
        betas: (β1, β2), the decay rates of the two moving averages (default (0.9, 0.999)).
        eps: added to √v̂ in the denominator (default 1e-8).
        weight_decay: decoupled weight decay factor (default 1e-2, as in torch.optim.AdamW).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        # TODO: hand the hyper-parameters to the base class as its `defaults` dict.
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter; returns ``closure()``'s loss when a closure is given, else None.

        The closure is called once, before the update, with gradients enabled.
        """
        # TODO: call the closure (inside torch.enable_grad()); then for each group and each parameter with a
        # TODO: grad: create its state on first use, advance its own step count, decay p by (1 − lr·wd),
        # TODO: update m and v in place, bias-correct them and apply the update in place. Never write into
        # TODO: p.grad, and never add weight_decay·p to the gradient (that is Adam with L2, not AdamW).
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if not self.state[p]:
                    self.state[p] = {"step": torch.tensor(0.0), "exp_avg": torch.zeros_like(p),
                                     "exp_avg_sq": torch.zeros_like(p)}
            states = [self.state[p] for p in params]
            beta1, beta2 = group["betas"]
            torch.optim._functional.adamw(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                                          [s["exp_avg_sq"] for s in states], [], [s["step"] for s in states],
                                          amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"],
                                          weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
        return loss
