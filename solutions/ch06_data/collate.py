"""A collate function for sequences of different lengths: pad them into one batch tensor."""
import torch


def pad_collate(batch, padding_value=0):
    """Turn a list of ``(sequence, label)`` pairs into padded batch tensors (a DataLoader ``collate_fn``).

    Args:
        batch: a list of B pairs ``(Tensor[T_i, *F], label)``: sequences of different lengths T_i sharing the
            trailing shape F (e.g. token ids ``[T_i]`` or feature vectors ``[T_i, D]``) and dtype; labels are
            Python ints (or 0-d integer tensors).
        padding_value: the value written after the end of each shorter sequence.
    Returns:
        ``(padded, lengths, labels)``:
        padded  ``[B, T_max, *F]`` in the sequences' dtype and on their device, ``padded[i, :T_i] = sequence_i`` and
                ``padding_value`` after it (batch first, like ``pad_sequence(..., batch_first=True)``);
        lengths ``[B]`` int64, the T_i (``pack_padded_sequence`` wants int64 lengths on the CPU);
        labels  ``[B]`` int64.
        The batch order is kept (no sorting by length). ``pad_sequence`` is forbidden here.
    """
    # TODO: lengths from each sequence's first dimension; allocate [B, T_max, *F] filled with padding_value
    # TODO: (new_full keeps dtype and device); copy each sequence into the start of its row.
    # BEGIN SOLUTION
    sequences = [seq for seq, _ in batch]
    lengths = torch.tensor([seq.shape[0] for seq in sequences], dtype=torch.int64)
    first = sequences[0]
    padded = first.new_full((len(sequences), int(lengths.max()), *first.shape[1:]), padding_value)
    for i, seq in enumerate(sequences):
        padded[i, : seq.shape[0]] = seq
    labels = torch.tensor([int(label) for _, label in batch], dtype=torch.int64)
    return padded, lengths, labels
    # END SOLUTION
