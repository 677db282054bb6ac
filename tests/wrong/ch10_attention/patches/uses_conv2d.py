"""ViT patch embedding: cut an image into p x p patches and project each one linearly."""
import torch
import torch.nn as nn
import torch.nn.functional as F

MISTAKE = "runs F.conv2d with the Linear's weight reshaped"
EXPECT = {'test_no_forbidden_api': 'conv2d'}


class PatchEmbedding(nn.Module):
    """Split [B, C, H, W] images (H = W = img_size) into non-overlapping patch_size x patch_size patches
    and embed each with one nn.Linear.

    Attributes:
        proj: nn.Linear(in_ch * p * p, d_model), applied to each patch flattened in (c, ph, pw) order
            (channel slowest, then the row inside the patch, then the column).
        n_patches: (img_size // p) ** 2.
    Patches are numbered row-major: patch n covers rows (n // g)*p .. and columns (n % g)*p .., g = img_size // p.
    No class token and no position embedding.
    """

    def __init__(self, img_size: int, patch_size: int, in_ch: int, d_model: int):
        """Raises ValueError if img_size is not divisible by patch_size."""
        super().__init__()
        # TODO: validate the sizes, store them, compute n_patches and create proj.
        if patch_size <= 0 or img_size % patch_size != 0:
            raise ValueError(f"img_size={img_size} must be divisible by patch_size={patch_size}")
        self.img_size, self.patch_size, self.in_ch = img_size, patch_size, in_ch
        self.grid = img_size // patch_size
        self.n_patches = self.grid ** 2
        self.proj = nn.Linear(in_ch * patch_size * patch_size, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] with H = W = img_size (else ValueError) -> [B, n_patches, d_model]."""
        # TODO: reshape so the patch-row and patch-column axes separate from the pixel axes inside a
        # TODO: patch, permute to [B, gh, gw, C, p, p], flatten to [B, N, C*p*p] and project. No loops.
        B, C, H, W = x.shape
        if H != self.img_size or W != self.img_size:
            raise ValueError(f"expected {self.img_size}x{self.img_size} images, got {H}x{W}")
        p = self.patch_size
        w = self.proj.weight.reshape(-1, C, p, p)
        return F.conv2d(x, w, self.proj.bias, stride=p).flatten(2).transpose(1, 2)
