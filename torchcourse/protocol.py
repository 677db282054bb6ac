"""The wire format between the grading process and a worker: framed JSON, tensors as raw bytes beside it.

Never pickle: unpickling runs code chosen by whoever wrote the bytes, and the worker is untrusted.
Everything that crosses is JSON: plain scalars, strings, lists, dicts, and a few tagged records
(``{"__t__": "tensor", ...}``) that the receiving side rebuilds itself.

A frame is bounded before it is parsed: at most ``MAX_FRAME_BYTES`` bytes, at most ``MAX_ITEMS`` JSON values
(counted on the raw bytes, so a frame of millions of empty lists is refused without building one of them),
nesting at most ``MAX_DEPTH`` deep, and read to its end within ``FRAME_SECONDS`` of its first byte.
Tensors keep their layout (strides, storage offset) when it is not the plain contiguous one, and tensors on
the ``meta`` device cross without data.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import time

MAX_FRAME_BYTES = 128 * 1024 * 1024   # a frame larger than this is a protocol violation, not data
MAX_ITEMS = 1_000_000                   # JSON values in one frame: list items, dict entries, containers
MAX_DEPTH = 64                          # nesting of lists and objects
FRAME_SECONDS = 20.0                    # a frame, once begun, arrives in full within this (pipes move GB/s)
MAX_TENSOR_ELEMENTS = MAX_FRAME_BYTES   # an expanded (stride 0) view cannot claim more elements than this

_DTYPES = [
    "float64", "float32", "float16", "bfloat16", "complex64", "complex128",
    "int64", "int32", "int16", "int8", "uint8", "bool",
]


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class FrameOutOfBounds(ProtocolError, ValueError):
    """A message exceeds a frame's bounds (bytes, values, nesting, time); the text says which.

    Also a ``ValueError``, so that a worker whose result is too large to send reports it as an error."""


class StaleHandle(ProtocolError):
    """A request named an object the worker does not hold: a handle that outlived the worker that made it."""


# ---------------------------------------------------------------- framing

def send(fd: int, message: dict) -> None:
    """Write one message; a message beyond the bounds raises ``FrameOutOfBounds`` and nothing is written.

    A frame is ``!II`` (the JSON's length, the blob's length), the JSON, then the blob: the raw bytes of every
    ``bytes``/``memoryview`` value in the message (tensor data), which the JSON names as
    ``{"__b__": [offset, length]}``. Tensor bytes are thus copied, never base64-encoded or parsed."""
    blobs: list = []
    size = [0]

    def blob(value):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        view = memoryview(value).cast("B")
        blobs.append(view)
        size[0] += len(view)
        return {"__b__": [size[0] - len(view), len(view)]}

    data = json.dumps(message, allow_nan=False, separators=(",", ":"), default=blob).encode()
    check_frame(data, size[0])
    _write_all(fd, b"".join([struct.pack("!II", len(data), size[0]), data, *blobs]))


def recv(fd: int, *, frame_seconds: float = FRAME_SECONDS) -> dict:
    """Read one message; raises EOFError when the other end closed the pipe.

    Waiting for a frame to begin is the caller's business (its own deadline); once the first byte has
    arrived, the rest must follow within ``frame_seconds``. The frame is checked (``check_frame``) before it is
    parsed, so an oversized one costs one buffer of its bytes and no Python objects. Blob references come
    back as read-only ``memoryview`` slices of the blob."""
    first = _read_exact(fd, 1, None)
    deadline = time.monotonic() + frame_seconds
    size, blob_size = struct.unpack("!II", first + _read_exact(fd, 7, deadline))
    if size + blob_size > MAX_FRAME_BYTES:
        raise FrameOutOfBounds(f"a message of {size + blob_size:,} bytes exceeds the {MAX_FRAME_BYTES:,} byte "
                               f"limit")
    data = _read_exact(fd, size, deadline)
    check_frame(data, blob_size)
    blob = memoryview(_read_exact(fd, blob_size, deadline)).toreadonly()

    def blob_ref(record: dict):
        ref = record.get("__b__")
        if ref is None:
            return record
        if len(record) != 1 or not isinstance(ref, list) or len(ref) != 2 or \
                not all(type(v) is int and v >= 0 for v in ref) or ref[0] + ref[1] > blob_size:
            raise ProtocolError(f"bad blob reference {ref!r}")
        return blob[ref[0]:ref[0] + ref[1]]

    try:
        message = json.loads(data, object_hook=blob_ref)
    except RecursionError:
        raise FrameOutOfBounds("a message nested too deeply to parse") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed message: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def check_frame(data: bytes, blob_size: int = 0) -> None:
    """Refuse a frame of more than ``MAX_FRAME_BYTES`` bytes or ``MAX_ITEMS`` JSON values, before parsing it.

    Counted on the JSON's raw bytes: every value after the first follows a comma or opens a container, so
    ``commas + brackets + braces + 1`` bounds the number of values (characters inside strings only overcount).
    Nesting is bounded by the parser's recursion limit here and by ``MAX_DEPTH`` where values are decoded."""
    if len(data) + blob_size > MAX_FRAME_BYTES:
        raise FrameOutOfBounds(f"a message of {len(data) + blob_size:,} bytes exceeds the {MAX_FRAME_BYTES:,} "
                               f"byte limit")
    opens = data.count(b"[") + data.count(b"{")
    items = opens + data.count(b",") + 1
    if items > MAX_ITEMS:
        raise FrameOutOfBounds(
            f"a message of {len(data):,} bytes holds more values than the {MAX_ITEMS:,} one message may carry "
            f"({items:,} commas and brackets; return tensors, not long Python lists or dicts)")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytearray:
    """``n`` bytes into one buffer (no chunks to join); past ``deadline`` (monotonic) raise ``FrameOutOfBounds``."""
    buffer = bytearray(n)
    view, done = memoryview(buffer), 0
    while done < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise FrameOutOfBounds(f"a message stopped after {done:,} of {n:,} bytes: it did not arrive in "
                                       f"full in time")
        got = os.readv(fd, [view[done:done + (1 << 22)]])
        if not got:
            raise EOFError("pipe closed")
        done += got
    return buffer


# ---------------------------------------------------------------- values
# Both sides share these helpers for the parts that need no judgement (numbers, tensors); what to do
# with objects that are not plain data is each side's own business (see worker.py and remote.py).

def tensors_in(value):
    """Every tensor in ``value``, at any depth of its lists, tuples and dict values, in order."""
    import torch

    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors_in(v)


def map_tensors(fn, value):
    """``value`` with every tensor ``t`` in it (at any depth of lists, tuples, dicts) replaced by ``fn(t)``."""
    import torch

    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(map_tensors(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: map_tensors(fn, v) for k, v in value.items()}
    return value


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
    """``t`` as a record: dtype, shape, device, requires_grad and its values as raw bytes (a CPU copy).

    A tensor whose layout is not the plain contiguous one (a transpose, a slice, an expanded or strided
    view, a storage offset) keeps it: the record carries ``stride`` and ``offset`` and the bytes of the span of
    storage the view reads, and ``decode_tensor`` rebuilds the same view over a new storage. A tensor on the
    ``meta`` device has no values: only its shape, strides and offset cross."""
    import torch

    dtype = str(t.dtype).removeprefix("torch.")
    if dtype not in _DTYPES:
        raise TypeError(f"tensors of dtype {t.dtype} cannot be sent")
    record = {"__t__": "tensor", "kind": kind, "dtype": dtype, "shape": list(t.shape), "device": str(t.device),
              "requires_grad": bool(t.requires_grad)}
    t = t.detach()
    strided = not t.is_contiguous() or t.storage_offset() != 0
    if strided or t.device.type == "meta":
        record["stride"], record["offset"] = list(t.stride()), int(t.storage_offset())
    if t.device.type == "meta":
        return record
    if strided:     # the storage the view reads, from its first element to its last, in storage order
        span = _span(record["shape"], record["stride"])
        flat = torch.as_strided(t, (span,), (1,), t.storage_offset()) if span else t.new_empty(0)
    else:
        flat = t.reshape(-1)
    cpu = flat.to("cpu").contiguous()
    record["data"] = memoryview(cpu.view(torch.uint8).numpy()) if cpu.numel() else b""   # sent as raw bytes
    return record


def _span(shape, stride) -> int:
    """How many storage elements a view of ``shape`` and (non-negative) ``stride`` reaches, from its first."""
    if not shape:
        return 1
    if 0 in shape:
        return 0
    return 1 + sum((n - 1) * st for n, st in zip(shape, stride))


def decode_tensor(record: dict, *, device_ok=lambda device: device == "cpu"):
    """Rebuild a tensor from a record, checking that the byte count matches dtype, shape and layout.

    ``device_ok(device)`` says whether a tensor may be placed on a non-CPU device it names (else it stays on
    the CPU); ``meta`` tensors are always rebuilt on ``meta``, with no data."""
    import torch

    dtype_name = record.get("dtype")
    if dtype_name not in _DTYPES:
        raise ProtocolError(f"unknown dtype {dtype_name!r}")
    dtype = getattr(torch, dtype_name)
    shape = _int_list(record.get("shape"), "shape")
    layout = "stride" in record
    stride = _int_list(record.get("stride"), "stride") if layout else None
    offset = record.get("offset", 0)
    if layout and (len(stride) != len(shape) or type(offset) is not int or offset < 0):
        raise ProtocolError(f"bad layout: shape {shape}, stride {stride}, offset {offset!r}")
    numel = math.prod(shape)
    device = str(record.get("device", "cpu"))
    if device == "meta":
        t = torch.empty_strided(shape, stride or _contiguous_strides(shape), dtype=dtype, device="meta")
        t = t.as_strided(shape, t.stride(), offset) if offset else t
    else:
        count = _span(shape, stride) if layout else numel
        if max(numel, offset + count) > MAX_TENSOR_ELEMENTS:
            raise ProtocolError(f"a tensor of {numel:,} elements (storage {offset + count:,}) exceeds the "
                                f"{MAX_TENSOR_ELEMENTS:,} element limit")
        raw = record.get("data", b"")
        if not isinstance(raw, (bytes, memoryview)):
            raise ProtocolError(f"tensor data is a {type(raw).__name__}, not bytes")
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) != count * itemsize:
            raise ProtocolError(f"tensor data has {len(raw)} bytes, expected {count * itemsize}")
        # a tensor over a new bytearray of its own (frombuffer keeps it alive): no further copy needed
        flat = torch.frombuffer(bytearray(raw), dtype=dtype) if count else torch.empty(0, dtype=dtype)
        if layout:      # the same view over a new storage: zeros before the offset, then the span sent
            storage = torch.zeros(offset + count, dtype=dtype)
            storage[offset:] = flat
            if device != "cpu" and device_ok(device):
                storage = storage.to(device)
            t = storage.as_strided(shape, stride, offset)
        else:
            t = flat.reshape(shape) if count else torch.empty(shape, dtype=dtype)
            if device != "cpu" and device_ok(device):
                t = t.to(device)
    if record.get("requires_grad") and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t


def _int_list(value, what: str) -> list:
    if not isinstance(value, list) or len(value) > MAX_DEPTH or \
            not all(type(v) is int and 0 <= v < 1 << 62 for v in value):
        raise ProtocolError(f"bad {what} {value!r}")
    return value


def _contiguous_strides(shape) -> list:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return strides[::-1]
