"""Sinusoidal position encodings from "Attention Is All You Need"."""
import torch


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
    raise NotImplementedError("sinusoidal_positions: not implemented yet")
