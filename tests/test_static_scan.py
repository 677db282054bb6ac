"""The static half of the forbidden-API guard."""
from torchcourse.static_scan import find_forbidden

SOURCE = '''import torch
import torch.nn.functional as F
from torch import cdist as cd
from torch import nn
from torch.nn import MultiheadAttention


def a(x, self=None):
    y = torch.cdist(x, x) + F.normalize(x) + x.unfold(0, 1, 1) + getattr(torch, "cdist")(x, x)
    z = self.normalize(x) + torch.linalg.norm(x)        # not forbidden: another object's method; another API
    return y, z


class M(nn.MultiheadAttention):
    pass
'''
FORBIDDEN = ["torch.cdist", "torch.nn.functional.normalize", "torch.Tensor.unfold", "torch.nn.MultiheadAttention"]


def test_finds_every_spelling():
    found = {(f.line, f.api) for f in find_forbidden(SOURCE, FORBIDDEN)}
    assert (3, "torch.cdist") in found                      # from torch import cdist as cd
    assert (5, "torch.nn.MultiheadAttention") in found      # from-import
    assert (9, "torch.cdist") in found                      # attribute and getattr string
    assert (9, "torch.nn.functional.normalize") in found    # through the F alias
    assert (9, "torch.Tensor.unfold") in found              # method on any tensor
    assert (14, "torch.nn.MultiheadAttention") in found     # as a base class


def test_no_false_positives():
    found = find_forbidden(SOURCE, FORBIDDEN)
    assert not [f for f in found if f.line == 10]
    assert find_forbidden("import torch\nx = torch.add(1, 2)\n", FORBIDDEN) == []
