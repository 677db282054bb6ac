"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), as a torch Optimizer."""

MISTAKE = 'uses m and v directly, without dividing by 1 - beta^t'
EXPECT = {'test_bias_correction': 'no bias correction'}
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
            lr, (beta1, beta2) = group["lr"], group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)         # m
                    state["exp_avg_sq"] = torch.zeros_like(p)      # v
                state["step"] += 1
                m, v = state["exp_avg"], state["exp_avg_sq"]
                p.mul_(1 - lr * weight_decay)
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat, v_hat = m, v
                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)
        return loss
