"""The wire format between the grading process and a worker: framed JSON, tensors as raw bytes.

Never pickle: unpickling runs code chosen by whoever wrote the bytes, and the worker is untrusted.
Everything that crosses is JSON: plain scalars, strings, lists, dicts, and a few tagged records
(``{"__t__": "tensor", ...}``) that the receiving side rebuilds itself.
"""
from __future__ import annotations

import base64
import json
import math
import os
import struct

MAX_MESSAGE = 256 * 1024 * 1024   # a frame larger than this is a protocol violation, not data

_DTYPES = [
    "float64", "float32", "float16", "bfloat16", "complex64", "complex128",
    "int64", "int32", "int16", "int8", "uint8", "bool",
]


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


# ---------------------------------------------------------------- framing

def send(fd: int, message: dict) -> None:
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    _write_all(fd, struct.pack("!I", len(data)) + data)


def recv(fd: int) -> dict:
    """Read one message; raises EOFError when the other end closed the pipe."""
    (size,) = struct.unpack("!I", _read_exact(fd, 4))
    if size > MAX_MESSAGE:
        raise ProtocolError(f"message of {size} bytes exceeds the {MAX_MESSAGE} byte limit")
    try:
        message = json.loads(_read_exact(fd, size))
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed message: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- values
# Both sides share these helpers for the parts that need no judgement (numbers, tensors); what to do
# with objects that are not plain data is each side's own business (see worker.py and remote.py).

def encode_float(x: float):
    if math.isfinite(x):
        return x
    return {"__t__": "float", "v": repr(x)}           # 'nan', 'inf', '-inf'


def decode_float(record: dict) -> float:
    value = record.get("v")
    if value not in ("nan", "inf", "-inf"):
        raise ProtocolError(f"bad float record {value!r}")
    return float(value)


def encode_tensor(t, *, kind: str = "Tensor") -> dict:
    """A CPU copy of ``t``'s values as bytes, with dtype, shape, device and requires_grad."""
    import torch

    dtype = str(t.dtype).removeprefix("torch.")
    if dtype not in _DTYPES:
        raise TypeError(f"tensors of dtype {t.dtype} cannot be sent")
    cpu = t.detach().to("cpu").contiguous()
    raw = cpu.reshape(-1).view(torch.uint8).numpy().tobytes() if cpu.numel() else b""
    return {
        "__t__": "tensor", "kind": kind, "dtype": dtype, "shape": list(cpu.shape),
        "device": str(t.device), "requires_grad": bool(t.requires_grad),
        "data": base64.b64encode(raw).decode("ascii"),
    }


def decode_tensor(record: dict, *, device_ok=lambda device: device == "cpu"):
    """Rebuild a tensor from a record, checking that the byte count matches dtype and shape."""
    import torch

    dtype_name = record.get("dtype")
    if dtype_name not in _DTYPES:
        raise ProtocolError(f"unknown dtype {dtype_name!r}")
    dtype = getattr(torch, dtype_name)
    shape = record.get("shape")
    if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise ProtocolError(f"bad shape {shape!r}")
    raw = base64.b64decode(record.get("data", ""), validate=True)
    numel = math.prod(shape)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != numel * itemsize:
        raise ProtocolError(f"tensor data has {len(raw)} bytes, expected {numel * itemsize}")
    if numel:
        t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape).clone()
    else:
        t = torch.empty(shape, dtype=dtype)
    device = str(record.get("device", "cpu"))
    if device != "cpu" and device_ok(device):
        t = t.to(device)
    if record.get("requires_grad") and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t
