"""Linear warm-up followed by cosine decay: the learning-rate schedule of most Transformer recipes."""
import math


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, base_lr: float, min_lr: float = 0.0) -> float:
    """The learning rate at ``step`` (counted from 0), as a Python float.

    With s = step, W = warmup_steps, T = total_steps (W < T):

        lr(s) = base_lr · s / W                                            for s < W (linear, from 0)
        lr(s) = min_lr + (base_lr − min_lr) · (1 + cos(π · (s − W) / (T − W))) / 2   for W ≤ s ≤ T
        lr(s) = min_lr                                                     for s > T

    so lr(W) = base_lr exactly (the warm-up ends where the cosine starts), lr(T) = min_lr, and the lr
    stays at min_lr afterwards. W = 0 means no warm-up: the cosine starts at step 0 with base_lr.

    Use it with ``torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, W, T, 1.0))``, which
    multiplies each group's lr by the returned factor.
    """
    # TODO: three cases: s < W (warm-up), W <= s < T (cosine), s >= T (min_lr). Check that the warm-up
    # TODO: value at s = W − 1 is base·(W − 1)/W and that the cosine gives exactly base_lr at s = W.
    # TODO: W = 0 must not divide by zero.
    raise NotImplementedError("warmup_cosine: not implemented yet")
