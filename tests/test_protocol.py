"""The wire format: tensors survive the trip exactly, and malformed input is rejected, never executed."""
import os

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
    protocol.send(w, {"a": [1, 2.5, "x"]})
    assert protocol.recv(r) == {"a": [1, 2.5, "x"]}
    os.write(w, b"\x00\x00\x00\x05nope!")
    with pytest.raises(protocol.ProtocolError):
        protocol.recv(r)
    os.write(w, b"\xff\xff\xff\xff")
    with pytest.raises(protocol.ProtocolError, match="limit"):
        protocol.recv(r)
    os.close(w)
    with pytest.raises(EOFError):
        protocol.recv(r)
    os.close(r)
