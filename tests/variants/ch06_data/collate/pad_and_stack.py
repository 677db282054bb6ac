"""pad_collate with F.pad and torch.stack (a valid alternative)."""
import torch
import torch.nn.functional as F


def pad_collate(batch, padding_value=0):
    sequences, labels = zip(*batch)
    longest = max(seq.size(0) for seq in sequences)
    rows = []
    for seq in sequences:
        # F.pad's pad list starts from the last dimension: (0, 0) for each trailing feature dim, then the time dim
        pad = [0, 0] * (seq.dim() - 1) + [0, longest - seq.size(0)]
        rows.append(F.pad(seq, pad, value=padding_value))
    lengths = torch.tensor([seq.size(0) for seq in sequences]).long()
    return torch.stack(rows), lengths, torch.tensor([int(v) for v in labels]).long()
