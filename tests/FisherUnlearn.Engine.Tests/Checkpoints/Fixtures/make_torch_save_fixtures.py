#!/usr/bin/env python3
"""Writes the .pt fixtures of PythonPickledCheckpointTests with Python's own pickle module and torch.save's layout.

PyTorch is not installed on the build machine, so torch.save cannot run here. This script does what
torch/serialization.py (_save) and PyTorchStreamWriter do for torch.save(model.state_dict(), path), with stand-ins
registered under torch's module names, so that the pickle bytes are the ones CPython's pickler emits for a
state_dict (protocol 2, memo puts and gets, LONG_BINPUT past 256 entries, TUPLE1-3, NEWFALSE, BINPERSID), not ones
written opcode by opcode by the tests:

- the pickled object is an OrderedDict of tensors with a `_metadata` attribute, as nn.Module.state_dict() returns;
- each tensor reduces to torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
  OrderedDict()), as torch.Tensor._reduce_ex_internal does for a CPU tensor; its storage is a persistent id
  ('storage', torch.<T>Storage, key, 'cpu', numel), keys numbered in first-use order;
- the zip file is stored (not compressed) under a folder named after the file, holds data.pkl, byteorder,
  data/<key> for each storage in key order, version ("3") and .data/serialization_id, and every record's data
  starts at a multiple of 64 bytes (PyTorchStreamWriter pads with an extra field).

Run from this folder: python3 make_torch_save_fixtures.py. The outputs are committed; the tests check their values.
"""

import collections
import io
import pickle
import struct
import sys
import types
import zipfile

# Stand-ins for the torch names the pickle refers to. The pickler writes a class or function as GLOBAL
# 'module name' after checking that sys.modules[module].name is that very object.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch.__path__ = []
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    raise RuntimeError("only pickled here, never called")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


def _storage_class(name):
    cls = type(name, (), {})
    cls.__module__ = "torch"
    setattr(torch, name, cls)
    return cls


FloatStorage = _storage_class("FloatStorage")
HalfStorage = _storage_class("HalfStorage")


class Storage:
    """A typed storage: its torch class, struct format and values."""

    def __init__(self, cls, fmt, values):
        self.cls, self.fmt, self.values = cls, fmt, list(values)

    def raw(self):
        return b"".join(struct.pack("<" + self.fmt, v) for v in self.values)


class Tensor:
    """A view of a storage, reduced the way torch.Tensor is for pickling."""

    def __init__(self, storage, offset, size, stride=None):
        self.storage, self.offset, self.size = storage, offset, tuple(size)
        if stride is None:
            stride, step = [], 1
            for extent in reversed(size):
                stride.insert(0, step)
                step *= extent
        self.stride = tuple(stride)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def dump(state_dict):
    keys = {}
    storages = {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            key = keys.setdefault(id(obj), str(len(keys)))
            storages[key] = obj
            return ("storage", obj.cls, key, "cpu", len(obj.values))
        return None

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(state_dict)
    return buffer.getvalue(), storages


def write_pt(path, state_dict):
    data, storages = dump(state_dict)
    folder = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    records = [("data.pkl", data), ("byteorder", b"little")]
    records += [("data/" + key, storages[key].raw()) for key in sorted(storages)]
    records += [("version", b"3\n"), (".data/serialization_id", b"0259513092604716013400000066373805727953")]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, payload in records:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            # Local header: 30 bytes + name + extra; pad the extra field ('FB', length) so the data is 64-aligned.
            start = archive.fp.tell() + 30 + len(info.filename.encode()) + 4
            padding = (-start) % 64
            info.extra = struct.pack("<HH", 0x4246, padding) + b"Z" * padding
            archive.writestr(info, payload)


def module_metadata(prefixes):
    metadata = collections.OrderedDict()
    for prefix in prefixes:
        metadata[prefix] = {"version": 1}
    return metadata


def mlp_state(inputs, hidden, classes, half=False):
    """An mlp state_dict whose values are index-derived (checked by the tests): weight[o][i] = layer + o / 100 + i /
    10000, bias[o] = -(layer + o / 100); each parameter has a storage of its own, as nn.Linear's do."""
    sizes = [inputs, *hidden, classes]
    state = collections.OrderedDict()
    for layer in range(1, len(sizes)):
        fan_in, fan_out = sizes[layer - 1], sizes[layer]
        weight = [layer + o / 100 + i / 10000 for o in range(fan_out) for i in range(fan_in)]
        bias = [-(layer + o / 100) for o in range(fan_out)]
        cls, fmt = (HalfStorage, "e") if half else (FloatStorage, "f")
        state[f"fc{layer}.weight"] = Tensor(Storage(cls, fmt, weight), 0, (fan_out, fan_in))
        state[f"fc{layer}.bias"] = Tensor(Storage(cls, fmt, bias), 0, (fan_out,))
    state._metadata = module_metadata([""] + [f"fc{layer}" for layer in range(1, len(sizes))])
    return state


if __name__ == "__main__":
    # mlp 4-3-2, float32.
    write_pt("mlp-4-3-2.pt", mlp_state(4, [3], 2))
    # mlp with 20 hidden layers of 3: 42 tensors, over 256 memo entries (LONG_BINPUT / LONG_BINGET).
    write_pt("mlp-deep.pth", mlp_state(4, [3] * 20, 2))
    # The same mlp 4-3-2 in float16 (model.half().state_dict()).
    write_pt("mlp-4-3-2-half.pt", mlp_state(4, [3], 2, half=True))
