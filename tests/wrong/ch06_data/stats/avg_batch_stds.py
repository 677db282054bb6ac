"""Per-channel mean and standard deviation of a whole dataset, one batch at a time."""

MISTAKE = 'averages the per-batch means and stds'
EXPECT = {'test_matches_full_tensor': 'averages per-batch stds'}
import torch


def channel_mean_std(loader) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and std of every channel over all pixels of all images, streaming over ``loader``.

    These are the numbers ``transforms.Normalize(mean, std)`` wants.

    Args:
        loader: yields ``(images, labels)`` with images ``[B, C, H, W]`` (any trailing shape after C works);
            batches may differ in size.
    Returns:
        ``(mean, std)``, each ``[C]`` in the images' dtype: the population statistics over every value of a
        channel in the whole loader, ``std = sqrt(mean((x - mean)²))`` (biased, not N - 1), exactly what
        ``x.mean(dim) / x.std(dim, correction=0)`` give on the concatenated data.

    Pinned: one pass, nothing but running sums kept between batches, accumulated in float64.
    """
    means, stds = [], []
    for images, _ in loader:
        x = images.transpose(0, 1).reshape(images.shape[1], -1).to(torch.float64)   # [C, B*H*W]
        means.append(x.mean(dim=1))
        stds.append(x.std(dim=1, correction=0))
    return torch.stack(means).mean(0).to(images.dtype), torch.stack(stds).mean(0).to(images.dtype)
