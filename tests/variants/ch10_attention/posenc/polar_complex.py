"""Sinusoidal position encodings from one complex exponential per position and frequency."""
import torch


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    if d_model % 2 != 0:
        raise ValueError(f"odd d_model: {d_model}")
    freqs = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    angles = torch.outer(torch.arange(max_len, dtype=torch.float64), freqs)
    z = torch.polar(torch.ones_like(angles), angles)                  # cos + i sin
    return torch.view_as_real(z).flip(-1).reshape(max_len, d_model).to(torch.float32)
