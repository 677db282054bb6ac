"""Weight initialisation: Kaiming (He) normal and Xavier (Glorot) uniform, with nn.init's fan rules."""
import math

import torch


def kaiming_normal_(t: torch.Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "relu") -> torch.Tensor:
    """Fill t in place with N(0, std²), std = gain / √fan, and return t.

    fan: for t of shape [out, in, *kernel], fan_in = in · prod(kernel) and fan_out = out · prod(kernel)
        (a Linear weight [out, in] has fan_in = in); mode picks which ("fan_in" or "fan_out").
    gain: "linear", "conv1d/2d/3d", "sigmoid" -> 1; "tanh" -> 5/3; "relu" -> √2;
        "leaky_relu" -> √(2 / (1 + a²)) with negative slope a.
    Raises ValueError for tensors with fewer than 2 dimensions, an unknown mode or nonlinearity.
    Works under torch.no_grad(), so t may be a Parameter that requires grad. nn.init is forbidden.
    """
    # TODO: compute the fans and the gain with the helpers _fans and _gain below, then fill t in place
    # TODO: with normal values of the right std, without recording it in autograd, and return t.
    fan_in, fan_out = _fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    std = _gain(nonlinearity, a) / math.sqrt(fan)
    return t.normal_(0.0, std)


def xavier_uniform_(t: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Fill t in place with U(-bound, bound), bound = gain · √(6 / (fan_in + fan_out)), and return t.

    Same fan rules and errors as kaiming_normal_ (this keeps the variance, bound²/3, equal to
    gain² · 2 / (fan_in + fan_out)).
    """
    # TODO: compute the fans, the bound, then fill t in place uniformly, without autograd, and return t.
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return t.uniform_(-bound, bound)


def _fans(t: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of t [out, in, *kernel]; ValueError when t has fewer than 2 dimensions."""
    # TODO: the receptive field is the product of the kernel dimensions (1 for a Linear weight).
    if t.dim() < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape "
                         f"{tuple(t.shape)}")
    receptive = math.prod(t.shape[2:])          # 1 for a Linear weight, kh·kw for a conv kernel
    return t.shape[1] * receptive, t.shape[0] * receptive


def _gain(nonlinearity: str, a: float = 0.0) -> float:
    """The recommended gain of nn.init.calculate_gain; ValueError for an unknown nonlinearity."""
    # TODO: one branch per family of nonlinearities listed in kaiming_normal_'s docstring.
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + a * a))
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
