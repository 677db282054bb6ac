import torch


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d) v over the last two axes; [..., L, d] x3 -> [..., L, d]."""
    raise NotImplementedError("attention: not implemented yet")


def correlate2d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation, stride 1, no bias: [N, C, H, W] and [O, C, kh, kw] -> [N, O, H-kh+1, W-kw+1]."""
    raise NotImplementedError("correlate2d: not implemented yet")


def adamw_step(p, g, m, v, t: int, lr: float = 1e-2, betas=(0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 1e-2):
    """One AdamW step (decoupled weight decay, bias-corrected moments, t counted from 1): returns new (p, m, v)."""
    raise NotImplementedError("adamw_step: not implemented yet")
