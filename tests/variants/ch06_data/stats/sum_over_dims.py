"""channel_mean_std summing over all dims but the channel's (a valid alternative)."""
import torch


def channel_mean_std(loader) -> tuple[torch.Tensor, torch.Tensor]:
    s = s2 = 0.0
    n, dtype = 0, None
    for images, _ in loader:
        dtype = images.dtype
        x = images.double()
        dims = [d for d in range(x.dim()) if d != 1]
        s = s + x.sum(dims)
        s2 = s2 + x.square().sum(dims)
        n += x.numel() // x.shape[1]
    mean = s / n
    std = (s2 / n - mean ** 2).clamp(min=0).sqrt()
    return mean.to(dtype), std.to(dtype)
