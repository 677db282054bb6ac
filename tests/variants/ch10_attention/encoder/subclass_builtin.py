"""One Transformer encoder layer (self-attention + feed-forward), pre-norm or post-norm."""
import torch
import torch.nn as nn


class TransformerEncoderLayer(nn.TransformerEncoderLayer):
    """Reuses PyTorch's layer: same parameter names, batch first."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, norm_first: bool = True):
        super().__init__(d_model, n_heads, d_ff, dropout=dropout, batch_first=True, norm_first=norm_first)

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        keep = mask
        if is_causal:
            L = src.shape[1]
            causal = torch.ones(L, L, dtype=torch.bool, device=src.device).tril()
            keep = causal if keep is None else keep & causal
        if keep is not None:
            B, L = src.shape[:2]
            keep = (~keep.expand(B, self.self_attn.num_heads, L, L)).reshape(-1, L, L)
        return super().forward(src, src_mask=keep)
