"""Sinusoidal position encodings from "Attention Is All You Need"."""
import torch

MISTAKE = '10000^(i/d) with i the pair index, instead of 2i/d'
EXPECT = {'test_closed_form': 'uses i instead of 2i'}


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """Fixed sinusoidal position encodings.

    Args:
        max_len: number of positions p = 0 .. max_len - 1.
        d_model: embedding size; must be even (else ValueError).
    Returns:
        float32 [max_len, d_model] with, for i = 0 .. d_model/2 - 1,
            PE[p, 2i]     = sin(p / 10000^(2i / d_model))
            PE[p, 2i + 1] = cos(p / 10000^(2i / d_model))
        (sin in the even columns, cos in the odd ones, interleaved).
    """
    # TODO: raise ValueError for odd d_model; build the angles p / 10000^(2i/d) for every position and
    # TODO: every pair i with broadcasting (no loops), then write sin into the even columns and cos into
    # TODO: the odd ones.
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even, got {d_model}")
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)          # [max_len, 1]
    two_i = torch.arange(0, d_model // 2, dtype=torch.float64)                # [d/2]
    # float64 for the angles: p * freq rounded in float32 is off by ~p * 1e-7 radians at long positions
    angles = pos / 10000.0 ** (two_i / d_model)                             # [max_len, d/2]
    pe = torch.empty(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()
    pe[:, 1::2] = angles.cos()
    return pe.float()                                                       # [max_len, d_model]
