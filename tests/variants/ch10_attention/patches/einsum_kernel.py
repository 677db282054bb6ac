"""ViT patch embedding as an einsum of image blocks with the projection viewed as a kernel."""
import torch
import torch.nn as nn


class PatchEmbedding(nn.Module):
    def __init__(self, img_size, patch_size, in_ch, d_model):
        super().__init__()
        if patch_size < 1 or img_size % patch_size:
            raise ValueError("img_size must divide by patch_size")
        self.img_size, self.patch_size, self.in_ch = img_size, patch_size, in_ch
        self.n_patches = (img_size // patch_size) ** 2
        self.proj = nn.Linear(in_ch * patch_size * patch_size, d_model)

    def forward(self, x):
        B, C, H, W = x.shape
        if H != self.img_size or W != self.img_size:
            raise ValueError("image size differs from img_size")
        p = self.patch_size
        g = H // p
        kernel = self.proj.weight.reshape(-1, C, p, p)                      # [d, C, p, p]
        blocks = x.reshape(B, C, g, p, g, p)
        out = torch.einsum("bcipjq,dcpq->bijd", blocks, kernel)             # [B, gh, gw, d]
        return out.reshape(B, g * g, -1) + self.proj.bias
