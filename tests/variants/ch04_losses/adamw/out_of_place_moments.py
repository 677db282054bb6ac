"""AdamW with moments recomputed out of place."""
import torch


class AdamW(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with torch.no_grad():
            for group in self.param_groups:
                lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    t = st.get("t", 0) + 1
                    m = b1 * st.get("m", torch.zeros_like(p)) + (1 - b1) * p.grad
                    v = b2 * st.get("v", torch.zeros_like(p)) + (1 - b2) * p.grad ** 2
                    st.update(t=t, m=m, v=v)
                    update = (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps)
                    p.copy_(p * (1 - lr * wd) - lr * update)
        return loss
