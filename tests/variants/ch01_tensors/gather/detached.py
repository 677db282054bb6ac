"""Wrong: goes through numpy, so no gradient reaches x."""
import numpy as np
import torch


def batched_gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    picked = np.take_along_axis(x.detach().cpu().numpy(), idx.cpu().numpy()[:, :, None], axis=1)
    return torch.from_numpy(picked).to(x.device)
