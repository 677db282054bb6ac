"""Hostile submission: the whole AdamW step in one call of torch._fused_adamw_ (the forbidden optimizer's kernel)."""
ATTACK = "the AdamW step through torch._fused_adamw_"
EXERCISE = "kernels"
FAILS = ["test_adamw", "test_no_forbidden_api"]
PASSES = ["test_attention", "test_correlate"]
MESSAGE = "forbidden"

import torch


def attention(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1) @ v


def correlate2d(x, w):
    n, _, h, width = x.shape
    o, _, kh, kw = w.shape
    out = w.reshape(o, -1) @ torch.nn.functional.unfold(x, (kh, kw))
    return out.reshape(n, o, h - kh + 1, width - kw + 1)


def adamw_step(p, g, m, v, t, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    p, m, v = p.clone(), m.clone(), v.clone()
    torch._fused_adamw_([p], [g], [m], [v], [], [torch.tensor(float(t), dtype=p.dtype)], lr=lr, beta1=betas[0],
                        beta2=betas[1], weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
    return p, m, v
