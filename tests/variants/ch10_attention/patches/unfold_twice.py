"""ViT patch embedding with Tensor.unfold."""
import torch.nn as nn


class PatchEmbedding(nn.Module):
    def __init__(self, img_size, patch_size, in_ch, d_model):
        super().__init__()
        if img_size % patch_size:
            raise ValueError("img_size must be a multiple of patch_size")
        self.img_size, self.p = img_size, patch_size
        self.n_patches = (img_size // patch_size) ** 2
        self.proj = nn.Linear(in_ch * patch_size ** 2, d_model)

    def forward(self, x):
        if tuple(x.shape[-2:]) != (self.img_size, self.img_size):
            raise ValueError(f"expected {self.img_size}x{self.img_size} images")
        p = self.p
        blocks = x.unfold(2, p, p).unfold(3, p, p)               # [B, C, gh, gw, p, p]
        blocks = blocks.permute(0, 2, 3, 1, 4, 5)                # [B, gh, gw, C, p, p]
        return self.proj(blocks.flatten(3).flatten(1, 2))
