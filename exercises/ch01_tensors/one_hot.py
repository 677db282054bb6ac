"""One-hot encoding with scatter_ along a new last axis, for any leading shape."""
import torch


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot encode integer class labels.

    Args:
        labels: integer tensor (``torch.long``) of any shape ``[...]``, values in ``[0, num_classes)``.
            It may be empty.
        num_classes: C, the number of classes (a positive int).

    Returns:
        [..., C] tensor of dtype ``torch.get_default_dtype()`` (float32 unless changed) on
        ``labels.device``, with ``out[..., c] = 1.0`` where ``labels[...] == c`` and 0.0 elsewhere.
        The leading shape of ``labels`` is kept as it is.

    Raises:
        ValueError: if any label is negative or ``>= num_classes``.

    Forbidden: ``torch.nn.functional.one_hot``.
    """
    # TODO: raise ValueError when a label lies outside [0, num_classes) (an empty tensor has none);
    # TODO: then start from zeros of shape [..., C] in the default float dtype on labels' device and
    # TODO: write a 1 at each label's position along the last axis (Tensor.scatter_, or compare the
    # TODO: labels against torch.arange(C) by broadcasting) — no loops.
    raise NotImplementedError("one_hot: not implemented yet")
