"""Sinusoidal position encodings, the frequencies written as exp(-2i ln(10000) / d)."""
import math

import torch


def sinusoidal_positions(max_len, d_model):
    if d_model % 2:
        raise ValueError("d_model must be even")
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    angles = position * div_term
    return torch.stack((angles.sin(), angles.cos()), dim=-1).flatten(1)
