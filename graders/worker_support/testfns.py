"""Small, deterministic functions that graders pass to learner code (``impl.lib("worker_support.testfns")``).

They run inside the worker, so they must be plain torch code with no secrets: e.g. the ``f`` handed to a
learner's ``numerical_gradient(f, x)``.
"""
import torch


def cubic_sum(x: torch.Tensor) -> torch.Tensor:
    """sum(x³ − 2x), a 0-d tensor; its gradient is 3x² − 2."""
    return (x ** 3 - 2 * x).sum()


def sin_prod(x: torch.Tensor) -> torch.Tensor:
    """sum(sin(x) · x), a 0-d tensor; its gradient is cos(x)·x + sin(x)."""
    return (torch.sin(x) * x).sum()


def as_float(x: torch.Tensor) -> float:
    """A Python float rather than a tensor: sum(x²)."""
    return float((x ** 2).sum())


def logsumexp_rows(x: torch.Tensor) -> torch.Tensor:
    """sum over rows of logsumexp(x[i, :]), a 0-d tensor; its gradient is the row-wise softmax of x.

    It depends on x's shape: flattening x changes the value and the gradient.
    """
    return torch.logsumexp(x, dim=-1).sum()


def tensor_flags(fn, *args, **kwargs) -> list:
    """Call ``fn`` and describe every tensor in its (possibly tuple) result: [requires_grad, has grad_fn].

    Results come back to the judge as plain values, so whether they were detached is read here.
    """
    result = fn(*args, **kwargs)
    items = result if isinstance(result, (tuple, list)) else (result,)
    return [[bool(t.requires_grad), t.grad_fn is not None] if isinstance(t, torch.Tensor) else None
            for t in items]


class TiedLM(torch.nn.Module):
    """Embedding -> LayerNorm -> Linear head whose weight IS the embedding's (weight tying).

    Parameters: emb.weight [vocab, dim] (shared with head.weight), norm.weight [dim], norm.bias [dim],
    head.bias [vocab].
    """

    def __init__(self, vocab: int = 50, dim: int = 16):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, vocab)
        self.head.weight = self.emb.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.emb(tokens)))


# ---------------------------------------------------------------- optimizer probes (ch04)

def set_grads(params, grads) -> None:
    """``p.grad = g`` for each pair (``None`` clears it), the way backward fills gradients after
    ``zero_grad(set_to_none=False)``: written into the existing ``p.grad`` tensor when there is one, so an
    optimizer that keeps a reference to ``p.grad`` (or edits it in place) is seen doing so."""
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is None:
                p.grad = None
                continue
            g = g.detach().to(device=p.device, dtype=p.dtype)
            if p.grad is None or p.grad.shape != p.shape or p.grad.device != p.device:
                p.grad = g.clone()
            else:
                p.grad.copy_(g)


def param_values(params) -> list:
    """Detached copies of the parameters' values."""
    return [p.detach().clone() for p in params]


def param_grad_values(params) -> list:
    """Detached copies of the parameters' ``.grad`` (``None`` where there is none)."""
    return [None if p.grad is None else p.grad.detach().clone() for p in params]


class QuadraticClosure:
    """A closure for ``optimizer.step(closure)``: clears the grads, computes
    loss = Σ_i Σ (p_i − c_i)² · (i + 1), calls backward and returns the loss. Counts its calls."""

    def __init__(self, params, centres):
        self.params = list(params)
        self.centres = [c.detach().clone() for c in centres]
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if not torch.is_grad_enabled():
            raise RuntimeError("the closure was called with gradients disabled: step() runs under "
                               "torch.no_grad(), so call it as `with torch.enable_grad(): loss = closure()`")
        for p in self.params:
            p.grad = None
        loss = sum(((p - c.to(device=p.device, dtype=p.dtype)) ** 2).sum() * (i + 1)
                   for i, (p, c) in enumerate(zip(self.params, self.centres)))
        loss.backward()
        return loss


# ---------------------------------------------------------------- ch05/ch06: probes and recipes run in the worker

def seed_all(seed: int) -> None:
    """Seed the three global generators a training loop may draw from: torch, numpy and random."""
    import random

    import numpy as np

    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def rng_snapshot() -> dict:
    """The state of torch's, numpy's and random's global generators, as plain tensors (to compare)."""
    import random

    import numpy as np

    _, keys, pos, has_gauss, gauss = np.random.get_state()
    _, internal, gauss_next = random.getstate()
    return {"torch": torch.get_rng_state(),
            "numpy": torch.tensor([int(k) for k in keys] + [int(pos), int(has_gauss)], dtype=torch.int64),
            "numpy_gauss": float(gauss),
            "random": torch.tensor(list(internal), dtype=torch.int64),
            "random_gauss": None if gauss_next is None else float(gauss_next)}


def noisy_epochs(model, loader, loss_fn, optimizer, epochs: int) -> None:
    """Train for ``epochs`` epochs drawing from every global RNG at every step: the loader's shuffling and
    dropout (torch), input noise (numpy) and a random loss scale (random). Resuming it exactly needs all
    three generators restored, as well as the model and the optimizer."""
    import random

    import numpy as np

    for _ in range(epochs):
        model.train()
        for x, y in loader:
            noise = torch.from_numpy(np.random.standard_normal(tuple(x.shape))).to(x.dtype)
            optimizer.zero_grad()
            loss = loss_fn(model(x + 0.05 * noise), y) * (0.5 + random.random())
            loss.backward()
            optimizer.step()


class ModeProbe(torch.nn.Module):
    """Wraps a module and records, for every forward call, ``(self.training, torch.is_grad_enabled())``."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.inner(x)


def draw(sampler, rounds: int = 1) -> torch.Tensor:
    """Every index a sampler yields over ``rounds`` passes, as one LongTensor."""
    return torch.tensor([int(i) for _ in range(rounds) for i in sampler], dtype=torch.int64)


def collect(loader) -> tuple:
    """Iterate a DataLoader once and concatenate its batches: (inputs, targets)."""
    xs, ys = [], []
    for x, y in loader:
        xs.append(x)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def hflip(image: torch.Tensor) -> torch.Tensor:
    """A transform: mirror an image left-right (flip its last axis)."""
    return image.flip(-1)


def length(obj) -> int:
    """len(obj), for a grader holding only a handle."""
    return len(obj)


def get_item(obj, index):
    """obj[index], for a grader holding only a handle."""
    return obj[index]
