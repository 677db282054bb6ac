"""Wrong: the broadcast difference with the axes swapped, giving [M, N]."""
import torch

MISTAKE = "wrong broadcast axis: y's rows on the first axis, result is [M, N]"
EXPECT = {"test_shape": "broadcast axis", "test_broadcast_axes": "broadcast axis"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    diff = y[:, None, :] - x[None, :, :]
    return (diff ** 2).sum(-1)
