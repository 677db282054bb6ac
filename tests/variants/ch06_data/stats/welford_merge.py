"""channel_mean_std with Chan's parallel merge of per-batch means and M2 (a valid alternative)."""
import torch


def channel_mean_std(loader) -> tuple[torch.Tensor, torch.Tensor]:
    count, mean, m2, dtype = 0, None, None, None
    for images, _ in loader:
        dtype = images.dtype
        x = torch.movedim(images, 1, 0).flatten(1).to(torch.float64)      # [C, values]
        k = x.shape[1]
        batch_mean = x.mean(1)
        batch_m2 = ((x - batch_mean[:, None]) ** 2).sum(1)
        if mean is None:
            count, mean, m2 = k, batch_mean, batch_m2
            continue
        delta = batch_mean - mean
        total = count + k
        mean = mean + delta * (k / total)
        m2 = m2 + batch_m2 + delta ** 2 * (count * k / total)
        count = total
    return mean.to(dtype), (m2 / count).sqrt().to(dtype)
