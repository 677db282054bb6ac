"""One epoch written as a step helper (a valid alternative)."""
import torch
from torch import nn


def _step(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item(), len(inputs)


def train_one_epoch(model: nn.Module, loader, loss_fn, optimizer: torch.optim.Optimizer, device) -> float:
    model.train()
    weighted, seen = 0.0, 0
    for _, (inputs, targets) in enumerate(loader):
        loss, n = _step(model, inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True),
                        loss_fn, optimizer)
        weighted += loss * n
        seen += n
    return weighted / seen
