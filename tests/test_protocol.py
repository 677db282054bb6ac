"""The wire format: tensors survive the trip exactly, and malformed input is rejected, never executed."""
import contextlib
import json
import os
import resource
import struct
import threading
import time

import pytest
import torch

from torchcourse import protocol


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int32, torch.int8, torch.uint8, torch.bool, torch.complex64])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 5)])
def test_tensor_round_trip_is_exact(dtype, shape):
    t = (torch.randn(shape) * 10).to(dtype) if dtype != torch.complex64 else torch.randn(shape, dtype=dtype)
    back = protocol.decode_tensor(protocol.encode_tensor(t))
    assert back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_non_contiguous_and_requires_grad():
    t = torch.randn(4, 6).t().requires_grad_()
    record = protocol.encode_tensor(t)
    assert record["requires_grad"] is True
    back = protocol.decode_tensor(record)
    assert torch.equal(back.detach(), t.detach()) and back.requires_grad


def test_byte_count_must_match_shape():
    record = protocol.encode_tensor(torch.zeros(4))
    record["shape"] = [5]
    with pytest.raises(protocol.ProtocolError, match="bytes"):
        protocol.decode_tensor(record)


@pytest.mark.parametrize("bad", [{"dtype": "object"}, {"shape": [-1]}, {"shape": "3"}])
def test_bad_records_are_rejected(bad):
    record = {**protocol.encode_tensor(torch.zeros(3)), **bad}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_tensor(record)


def test_non_finite_floats():
    for x in (float("nan"), float("inf"), float("-inf")):
        encoded = protocol.encode_float(x)
        back = protocol.decode_float(encoded)
        assert (back != back) if x != x else back == x
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_float({"__t__": "float", "v": "__import__('os')"})


def test_framing_round_trip_and_garbage():
    r, w = os.pipe()
    protocol.send(w, {"a": [1, 2.5, "x"], "t": protocol.encode_tensor(torch.arange(3.))})
    message = protocol.recv(r)
    assert message["a"] == [1, 2.5, "x"] and torch.equal(protocol.decode_tensor(message["t"]), torch.arange(3.))
    os.write(w, struct.pack("!II", 5, 0) + b"nope!")
    with pytest.raises(protocol.ProtocolError):
        protocol.recv(r)
    os.write(w, b"\xff\xff\xff\xff\x00\x00\x00\x00")
    with pytest.raises(protocol.ProtocolError, match="limit"):
        protocol.recv(r)
    os.close(w)
    with pytest.raises(EOFError):
        protocol.recv(r)
    os.close(r)


@pytest.mark.parametrize("ref", [[0, 99], [-1, 2], "x", [0]])
def test_blob_references_stay_inside_the_blob(ref):
    r, w = os.pipe()
    body = json.dumps({"d": {"__b__": ref}}).encode()
    os.write(w, struct.pack("!II", len(body), 4) + body + b"abcd")
    with pytest.raises(protocol.ProtocolError, match="blob"):
        protocol.recv(r)
    os.close(r)
    os.close(w)


def _feed(w: int, data: bytes) -> threading.Thread:
    def write():
        with contextlib.suppress(OSError):
            protocol._write_all(w, data)
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_frame_of_millions_of_values_is_refused_before_parsing():
    """Issue 9: 25 M empty lists in 75 MB made the grading process peak at 4 GiB for minutes."""
    body = b'{"result":[' + b"[]," * 25_000_000 + b'[]]}'
    r, w = os.pipe()
    feeder = _feed(w, struct.pack("!II", len(body), 0) + body)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(protocol.FrameOutOfBounds, match="values"):
        protocol.recv(r)
    assert time.monotonic() - start < 30                        # generous: about a second
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MiB"   # the frame's bytes, no Python objects
    feeder.join()
    os.close(r)
    os.close(w)


def test_a_frame_that_stops_midway_times_out():
    r, w = os.pipe()
    os.write(w, struct.pack("!II", 100, 0) + b"{")
    start = time.monotonic()
    with pytest.raises(protocol.FrameOutOfBounds, match="in time"):
        protocol.recv(r, frame_seconds=0.2)
    assert time.monotonic() - start < 10
    os.close(r)
    os.close(w)


def test_deep_nesting_is_a_protocol_error():
    r, w = os.pipe()
    body = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    feeder = _feed(w, struct.pack("!II", len(body), 0) + body)
    with pytest.raises(protocol.ProtocolError):
        protocol.recv(r)
    feeder.join()
    os.close(r)
    os.close(w)


def test_sending_a_message_beyond_the_bounds_writes_nothing():
    r, w = os.pipe()
    with pytest.raises(protocol.FrameOutOfBounds, match="values"):
        protocol.send(w, {"result": [[]] * (protocol.MAX_ITEMS + 1)})
    assert isinstance(protocol.FrameOutOfBounds("x"), ValueError)   # the worker reports it as unsendable
    os.close(w)
    assert os.read(r, 10) == b""
    os.close(r)


# ---------------------------------------------------------------- layouts

@pytest.mark.parametrize("make", [
    lambda: torch.randn(4, 6).t(),
    lambda: torch.randn(5, 7)[1:4, 2::2],
    lambda: torch.randn(3).expand(1000, 3),
    lambda: torch.randn(10).as_strided((4, 3), (2, 1), 1),
    lambda: torch.randn(8)[3:],
    lambda: torch.randn(2, 0, 3).transpose(0, 2),
    lambda: torch.tensor(5.0).expand(()),
], ids=["transposed", "sliced", "expanded", "overlapping", "offset", "empty", "scalar"])
def test_layout_round_trip(make):
    t = make()
    record = protocol.encode_tensor(t)
    back = protocol.decode_tensor(record)
    assert torch.equal(back, t) and back.is_contiguous() == t.is_contiguous()
    if t.numel():                                                # an empty tensor's strides mean nothing
        assert (back.stride(), back.storage_offset()) == (t.stride(), t.storage_offset())
    if t.dim() and t.stride()[0] == 0:
        assert len(record["data"]) == 3 * 4                      # an expanded view sends its base only


def test_meta_round_trip_has_no_data():
    t = torch.empty(3, 5, device="meta").t()[1:]
    record = protocol.encode_tensor(t)
    assert "data" not in record
    back = protocol.decode_tensor(record)
    assert back.device.type == "meta" and back.shape == t.shape and back.stride() == t.stride()
    assert back.storage_offset() == t.storage_offset()


@pytest.mark.parametrize("bad", [
    {"stride": [1]},                                  # one stride for two dimensions
    {"stride": [1, 100]},                             # reaches past the data sent
    {"stride": [-1, 2]},
    {"offset": -3},
    {"offset": 1 << 40},                              # a storage the grading process would have to allocate
    {"shape": [1 << 40, 3], "stride": [0, 1]},        # an expanded view of more elements than allowed
], ids=["rank", "span", "negative", "negative-offset", "huge-offset", "huge-expand"])
def test_bad_layouts_are_rejected(bad):
    record = {**protocol.encode_tensor(torch.randn(3, 2).t()), **bad}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_tensor(record)
