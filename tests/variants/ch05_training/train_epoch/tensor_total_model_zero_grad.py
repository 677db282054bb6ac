"""One epoch with a tensor accumulator and model.zero_grad (a valid alternative)."""
import torch
from torch import nn


def train_one_epoch(model: nn.Module, loader, loss_fn, optimizer: torch.optim.Optimizer, device) -> float:
    model.train(True)
    total = 0.0
    samples = 0
    for batch in loader:
        inputs, targets = (t.to(device) for t in batch)
        model.zero_grad(set_to_none=False)
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * targets.numel()
        samples += targets.numel()
    return float(total) / samples
