"""Wrong: normalises one vector at a time in a Python loop."""
import torch

MISTAKE = "a Python loop over the vectors"
EXPECT = {"test_speed": "loop"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    moved = x.movedim(dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    rows = [row / row.norm().clamp_min(eps) for row in flat]
    out = torch.stack(rows) if rows else flat.clone()
    return out.reshape(moved.shape).movedim(-1, dim)
