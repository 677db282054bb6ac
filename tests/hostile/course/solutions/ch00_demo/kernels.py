import torch


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d) v over the last two axes; [..., L, d] x3 -> [..., L, d]."""
    # BEGIN SOLUTION
    weights = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)
    return weights @ v
    # END SOLUTION


def correlate2d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation, stride 1, no bias: [N, C, H, W] and [O, C, kh, kw] -> [N, O, H-kh+1, W-kw+1]."""
    # BEGIN SOLUTION
    n, _, h, width = x.shape
    o, _, kh, kw = w.shape
    cols = torch.nn.functional.unfold(x, (kh, kw))                   # [N, C*kh*kw, L]
    out = w.reshape(o, -1) @ cols                                     # [N, O, L]
    return out.reshape(n, o, h - kh + 1, width - kw + 1)
    # END SOLUTION


def adamw_step(p, g, m, v, t: int, lr: float = 1e-2, betas=(0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 1e-2):
    """One AdamW step (decoupled weight decay, bias-corrected moments, t counted from 1): returns new (p, m, v)."""
    # BEGIN SOLUTION
    b1, b2 = betas
    p = p * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return p - lr * m_hat / (v_hat.sqrt() + eps), m, v
    # END SOLUTION
