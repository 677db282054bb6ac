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


SDPA = "torch.nn.functional.scaled_dot_product_attention"
ROUTES = '''import torch
import torch.nn.functional as F
from torch import convolution


def a(q, x, w, p, name):
    r1 = torch.ops.aten._scaled_dot_product_attention_math(q, q, q)
    r2 = torch._C._nn.__dict__["scaled_dot_product_attention"](q, q, q)
    r3 = vars(torch._C._nn)["scaled_dot_" + "product_attention"](q, q, q)
    r4 = getattr(F, "".join(["scaled_dot", "_product_attention"]))(q, q, q)
    r5 = torch.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    r6 = torch._fused_adamw_(p, p, p, p, [], [], lr=0.1)
    ok = getattr(torch, name), torch.softmax(q, -1), q @ q, F.unfold(x, 2), torch.nn.functional.softmax(q, -1)
    return r1, r2, r3, r4, r5, r6, ok
'''


def test_finds_operators_private_dicts_and_folded_names():
    forbidden = [SDPA, "torch.nn.functional.conv2d", "torch.optim.AdamW"]
    found = {(f.line, f.api) for f in find_forbidden(ROUTES, forbidden)}
    assert (3, "torch.nn.functional.conv2d") in found                   # from torch import convolution
    for line in (7, 8, 9, 10):                                          # torch.ops, __dict__, vars(), "".join
        assert (line, SDPA) in found, line
    assert (11, "torch.nn.functional.conv2d") in found                  # the kernel behind F.conv2d
    assert (12, "torch.optim.AdamW") in found                           # the fused step behind AdamW
    assert not [f for f in find_forbidden(ROUTES, forbidden) if f.line == 13]   # computed names, allowed ops


def test_scans_the_bytes_copied_into_the_sandbox(tmp_path):
    from torchcourse.sandbox import copy_python_tree
    from torchcourse.static_scan import copied_source

    (tmp_path / "src").mkdir()
    learner = tmp_path / "src" / "m.py"
    learner.write_text("import torch\nx = torch.cdist\n")
    assert copied_source(learner) is None                               # never copied: nothing to claim
    copy_python_tree(tmp_path / "src", tmp_path / "dst")
    learner.write_text("x = 1\n")                                       # rewritten after the copy
    assert copied_source(learner) == "import torch\nx = torch.cdist\n"
    assert (tmp_path / "dst" / "m.py").read_text() == copied_source(learner)
