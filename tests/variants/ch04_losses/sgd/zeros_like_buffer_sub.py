"""SGD whose momentum buffer starts at zeros."""
import torch
from torch.optim import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = torch.add(p.grad, p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                if group["momentum"]:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(p)
                        state["momentum_buffer"].add_(d)          # = d on the first step
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(d)
                    buf = state["momentum_buffer"]
                    d = d + group["momentum"] * buf if group["nesterov"] else buf
                p.sub_(group["lr"] * d)
        return loss
