"""pad_collate without a loop over the batch: a mask of valid positions (a valid alternative)."""
import torch


def pad_collate(batch, padding_value=0):
    sequences = [seq for seq, _ in batch]
    lengths = torch.tensor([len(seq) for seq in sequences], dtype=torch.long)
    steps = int(lengths.max())
    first = sequences[0]
    padded = torch.full((len(sequences), steps, *first.shape[1:]), padding_value, dtype=first.dtype,
                        device=first.device)
    valid = torch.arange(steps) < lengths[:, None]            # [B, T_max], on the CPU like lengths
    padded[valid.to(first.device)] = torch.cat(sequences)
    labels = torch.as_tensor([int(label) for _, label in batch], dtype=torch.long)
    return padded, lengths, labels
