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
    raise NotImplementedError("kaiming_normal_: not implemented yet")


def xavier_uniform_(t: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Fill t in place with U(-bound, bound), bound = gain · √(6 / (fan_in + fan_out)), and return t.

    Same fan rules and errors as kaiming_normal_ (this keeps the variance, bound²/3, equal to
    gain² · 2 / (fan_in + fan_out)).
    """
    # TODO: compute the fans, the bound, then fill t in place uniformly, without autograd, and return t.
    raise NotImplementedError("xavier_uniform_: not implemented yet")


def _fans(t: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of t [out, in, *kernel]; ValueError when t has fewer than 2 dimensions."""
    # TODO: the receptive field is the product of the kernel dimensions (1 for a Linear weight).
    raise NotImplementedError("_fans: not implemented yet")


def _gain(nonlinearity: str, a: float = 0.0) -> float:
    """The recommended gain of nn.init.calculate_gain; ValueError for an unknown nonlinearity."""
    # TODO: one branch per family of nonlinearities listed in kaiming_normal_'s docstring.
    raise NotImplementedError("_gain: not implemented yet")
