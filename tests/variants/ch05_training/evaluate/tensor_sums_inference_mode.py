"""Evaluation with tensor accumulators and inference_mode (a valid alternative)."""
import torch
from torch import nn


def evaluate(model: nn.Module, loader, loss_fn, device) -> dict:
    was_training = model.training
    model.eval()
    loss_sum = correct = None
    count = 0
    with torch.inference_mode():
        for inputs, targets in loader:
            inputs = inputs.to(device)
            targets = targets.to(device)
            logits = model(inputs)
            batch_loss = loss_fn(logits, targets) * len(targets)
            batch_correct = torch.eq(logits.argmax(-1), targets).sum()
            loss_sum = batch_loss if loss_sum is None else loss_sum + batch_loss
            correct = batch_correct if correct is None else correct + batch_correct
            count += len(targets)
    model.train(was_training)
    return {"loss": float(loss_sum) / count, "accuracy": int(correct) / count}
