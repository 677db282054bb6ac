"""Grader for ch05.train_epoch: train_one_epoch(model, loader, loss_fn, optimizer, device) -> float."""
import torch
import torch.nn as nn
from support.training import batches, expect_batches_moved, meta_loss

from torchcourse.data import Digits
from torchcourse.grading import assert_close, call_unchanged, check, load_state, random_state

F64 = torch.float64
LR, MOMENTUM = 0.1, 0.9


def _digits(n):
    """The first n training digits, flattened to [n, 64] float64, and their labels [n]."""
    ds = Digits("train")
    return ds.data[:n].reshape(n, 64).to(F64), ds.targets[:n].clone()


def _layers(nn_mod, dtype):
    return [nn_mod.Linear(64, 32, dtype=dtype), nn_mod.BatchNorm1d(32, dtype=dtype), nn_mod.ReLU(),
            nn_mod.Linear(32, 10, dtype=dtype)]


def _trusted_model(rng):
    """Linear-BatchNorm-ReLU-Linear in float64 with every entry of the state dict randomised (running
    statistics too, so that eval mode and train mode give visibly different results)."""
    m = nn.Sequential(*_layers(nn, F64))
    sd = random_state(m, rng, scale=0.3)
    m.load_state_dict(sd)
    return m, sd


def _worker_setup(impl, sd, x, y, batch_size):
    """The same model (weights copied), a DataLoader in order, CrossEntropyLoss and SGD, all in the worker."""
    wnn, data, optim = impl.lib("torch.nn"), impl.lib("torch.utils.data"), impl.lib("torch.optim")
    model = wnn.Sequential(*_layers(wnn, F64))
    load_state(model, sd)
    model.eval()                       # train_one_epoch must switch it to training mode itself
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return model, loader, wnn.CrossEntropyLoss(), opt


def _oracle(sd, x, y, batch_size, *, zero_grad="before", train=True):
    """The manual loop in this process. Returns (final state dict, [(batch loss, batch size), ...]).
    zero_grad: "before" (correct), "never", or "after_backward" (between backward and step)."""
    model = nn.Sequential(*_layers(nn, F64))
    model.load_state_dict(sd)
    model.train(train)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for i in range(0, len(y), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        if zero_grad == "before":
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if zero_grad == "after_backward":
            opt.zero_grad()
        opt.step()
        losses.append((loss.item(), len(yb)))
    return model.state_dict(), losses


def _flat(sd):
    return torch.cat([v.detach().to(F64).flatten() for v in sd.values()])


def _weighted(losses):
    return sum(loss * n for loss, n in losses) / sum(n for _, n in losses)


def _expect_float(value, what):
    if isinstance(value, torch.Tensor):
        raise AssertionError(f"{what}: expected a Python float, got a tensor of shape {tuple(value.shape)}; "
                             f"return the number with loss.item() (a tensor keeps the graph and the device)")
    if not isinstance(value, float):
        raise AssertionError(f"{what}: expected a Python float, got {type(value).__name__} {value!r}"[:300])


def _judge_loss(loss, losses, what):
    """The returned loss against the sample-weighted mean of the oracle's batch losses."""
    _expect_float(loss, what)
    batch_means = [b for b, _ in losses]
    last = losses[-1][1]
    mistakes = [
        ((f"batch-size-weighted mean wrong on the last batch: this is the mean of the batch means, which gives "
         f"the {last}-sample last batch the weight of a full one; weight each batch loss by its size"),
         torch.tensor(sum(batch_means) / len(batch_means), dtype=F64)),
        ("sum of the batch losses, not their mean", torch.tensor(sum(batch_means), dtype=F64)),
        ("the last batch's loss only", torch.tensor(batch_means[-1], dtype=F64)),
        ("the loss was divided by the batch size (loss_fn already returns the batch mean)",
         torch.tensor(sum(batch_means) / sum(n for _, n in losses), dtype=F64)),
    ]
    assert_close(torch.tensor(loss, dtype=F64), torch.tensor(_weighted(losses), dtype=F64), atol=1e-9, rtol=1e-9,
                 what=what, hint="sum loss.item() * batch_size over the batches, divide by the number of samples",
                 mistakes=mistakes)


@check(points=4, title="one epoch matches the manual loop (weights, BatchNorm statistics)")
def test_matches_manual_loop(ex, impl, rng):
    x, y = _digits(100)                                   # batches of 32, 32, 32 and 4
    _, sd = _trusted_model(rng)
    model, loader, loss_fn, opt = _worker_setup(impl, sd, x, y, 32)
    loss = ex.train_one_epoch(model, loader, loss_fn, opt, torch.device("cpu"))
    expected, losses = _oracle(sd, x, y, 32)
    mistakes = [
        (("no zero_grad: gradients accumulate from batch to batch; call optimizer.zero_grad() before each "
         "backward"), _flat(_oracle(sd, x, y, 32, zero_grad="never")[0])),
        (("model.eval() left on: the model arrived in eval mode and was trained that way (BatchNorm used its "
         "running statistics); call model.train() first"), _flat(_oracle(sd, x, y, 32, train=False)[0])),
        ("zero_grad between backward and step: the step sees zero gradients",
         _flat(_oracle(sd, x, y, 32, zero_grad="after_backward")[0])),
    ]
    assert_close(_flat(model.state_dict()), _flat(expected), atol=1e-9, rtol=1e-9,
                 what="the model's parameters and buffers after one epoch (flattened state_dict)",
                 hint="per batch, in order: optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); "
                      "optimizer.step()", mistakes=mistakes)
    _judge_loss(loss, losses, "train_one_epoch's return value (100 samples in batches of 32, 32, 32, 4)")


@check(points=2, title="returns the sample-weighted mean loss (last batch smaller)")
def test_sample_weighted_mean(ex, impl, rng):
    x, y = _digits(70)                                    # batches of 32, 32 and 6
    _, sd = _trusted_model(rng)
    model, loader, loss_fn, opt = _worker_setup(impl, sd, x, y, 32)
    loss = ex.train_one_epoch(model, loader, loss_fn, opt, "cpu")
    _, losses = _oracle(sd, x, y, 32)
    _judge_loss(loss, losses, "the mean training loss over 70 samples in batches of 32, 32, 6")


@check(points=1, title="trains in train mode, with gradients")
def test_train_mode(ex, impl, rng):
    x, y = _digits(64)
    _, sd = _trusted_model(rng)
    inner, loader, loss_fn, _ = _worker_setup(impl, sd, x, y, 16)
    probe = impl.lib("worker_support.testfns").ModeProbe(inner)
    probe.eval()
    opt = impl.lib("torch.optim").SGD(probe.parameters(), lr=LR)
    ex.train_one_epoch(probe, loader, loss_fn, opt, "cpu")
    calls = probe.calls
    if len(calls) != 4:
        raise AssertionError(f"the model was called {len(calls)} times for 4 batches; expected one forward per batch")
    if not all(training for training, _ in calls):
        raise AssertionError("model.eval() left on: the model arrived in eval mode and ran its forward passes in "
                             "eval mode; call model.train() at the start of train_one_epoch")
    if not all(grad for _, grad in calls):
        raise AssertionError("the forward passes ran with gradients disabled (torch.no_grad?): training needs them")
    if not probe.training:
        raise AssertionError("the model was left in eval mode after training: train_one_epoch sets model.train()")


@check(points=1, gpu=True, title="moves each batch to the device (CUDA)")
def test_cuda(ex, impl, rng, device):
    x, y = _digits(40)
    _, sd = _trusted_model(rng)
    model, loader, loss_fn, _ = _worker_setup(impl, sd, x, y, 16)
    model.to(device)
    opt = impl.lib("torch.optim").SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss = ex.train_one_epoch(model, loader, loss_fn, opt, device)
    expected, _ = _oracle(sd, x, y, 16)
    _expect_float(loss, "train_one_epoch's return value")
    got = {k: v.cpu() for k, v in model.state_dict().items()}
    assert_close(_flat(got), _flat(expected), atol=1e-7, rtol=1e-7,
                 what="the state dict after one epoch on CUDA (batches come from the loader on the CPU)",
                 hint="move each batch with inputs.to(device), targets.to(device)")


@check(points=1, covers=("device",), title="moves every batch to the model's device (checked on `meta`: no GPU needed)")
def test_moves_batches(ex, impl, rng):
    x, y = _digits(40)
    _, sd = _trusted_model(rng)
    model, loader, _, _ = _worker_setup(impl, sd, x, y, 16)
    model.to("meta")
    opt = impl.lib("torch.optim").SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    expect_batches_moved(lambda: ex.train_one_epoch(model, loader, meta_loss(impl), opt, torch.device("meta")),
                         "train_one_epoch(model, loader, loss_fn, optimizer, device)",
                         "Move each batch with inputs.to(device), targets.to(device) before the forward pass.")


@check(points=1, covers=("inputs",), title="leaves the loader's batches unchanged")
def test_batches_unchanged(ex, impl, rng):
    x, y = _digits(40)
    _, sd = _trusted_model(rng)
    model, _, loss_fn, opt = _worker_setup(impl, sd, x, y, 16)
    call_unchanged(ex.train_one_epoch, model, batches(x, y, 16), loss_fn, opt, "cpu",
                   names=("model", "loader", "loss_fn", "optimizer", "device"),
                   what="train_one_epoch(model, loader, ...) with a loader that is a list of batches")
