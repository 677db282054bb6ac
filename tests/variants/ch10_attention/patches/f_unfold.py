"""ViT patch embedding with F.unfold (im2col)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbedding(nn.Module):
    def __init__(self, img_size: int, patch_size: int, in_ch: int, d_model: int):
        super().__init__()
        if img_size % patch_size != 0:
            raise ValueError(f"{img_size} is not divisible by {patch_size}")
        self.img_size = img_size
        self.patch_size = patch_size
        self.n_patches = (img_size // patch_size) * (img_size // patch_size)
        self.proj = nn.Linear(in_ch * patch_size * patch_size, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.img_size or x.shape[-2] != self.img_size:
            raise ValueError("wrong image size")
        cols = F.unfold(x, kernel_size=self.patch_size, stride=self.patch_size)   # [B, C*p*p, N]
        return self.proj(cols.transpose(1, 2))
