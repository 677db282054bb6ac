"""SGD computed out of place and written back with copy_."""
import torch


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                lr, mu, wd, nesterov = (group[k] for k in ("lr", "momentum", "weight_decay", "nesterov"))
                for p in (q for q in group["params"] if q.grad is not None):
                    grad = p.grad.detach()
                    if wd != 0:
                        grad = grad + wd * p
                    if mu != 0:
                        prev = self.state[p].get("momentum_buffer")
                        buf = grad.clone() if prev is None else mu * prev + grad
                        self.state[p]["momentum_buffer"] = buf
                        grad = grad + mu * buf if nesterov else buf
                    p.copy_(p - lr * grad)
        return loss
