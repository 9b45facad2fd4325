"""Writes the pickles the reader's tests read, with Python's own pickle module, and beside each
valid one a JSON description of the value (tagged so that tuples, bytes, big ints and floats
survive), and beside each refused one the offset and name of its first refused opcode as
pickletools reports them. Usage: write_pickles.py OUT_DIR"""
import json
import math
import os
import pickle
import pickletools
import struct
import sys

out = sys.argv[1]


def tag(v):
    if v is None:
        return {"none": True}
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, list):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tag(k), tag(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def frames(i):
    return [{"filename": f"/work/model_{i % 3}.py", "line": 10 + i, "name": "forward"},
            {"filename": "/usr/lib/python3/dist-packages/torch/nn/modules/module.py", "line": 1501, "name": "_call_impl"}]


def snapshot_like():
    shared = frames(0)
    blocks = [{"address": 139_637_976_727_552 + 512 * k, "size": 512, "requested_size": 4 * k + 1,
               "state": "active_allocated" if k % 2 else "inactive", "frames": shared if k % 2 else []}
              for k in range(4)]
    return {
        "segments": [{"device": 0, "address": 139_637_976_727_552, "total_size": 2_097_152, "allocated_size": 1024,
                      "active_size": 1024, "requested_size": 6, "stream": 0, "segment_type": "small",
                      "segment_pool_id": (0, 0), "is_expandable": False, "frames": shared, "blocks": blocks}],
        "device_traces": [[{"action": "alloc", "addr": 139_637_976_727_552 + 512, "size": 5, "stream": 0,
                            "time_us": 1_715_000_000_000_000 + t, "frames": frames(t)} for t in range(3)]],
        "allocator_settings": {"PYTORCH_CUDA_ALLOC_CONF": "", "max_split_size": -1, "garbage_collection_threshold": 0.0,
                               "expandable_segments": False, "roundup_power2_divisions": {"1": 0, "2": 0}},
        "external_annotations": [],
    }


def valid_cases():
    shared = ["shared", 1]
    dag = []
    for _ in range(60):
        dag = [dag, dag]
    cases = {
        "scalars": [None, True, False, 0, 1, 255, 256, 65535, 65536, -1, -2**31, 2**31 - 1, 2**31, 2**53, -2**53],
        "bigints": [2**63, -2**63 - 1, 2**100, -(2**200), 2**64 - 1],
        "floats": [0.1, -2.5, 1e308, 5e-324, float("inf"), -float("inf"), -0.0],
        "unicode": ["", "é", "日本語", "🎉 party", "tab\tnew\nline", "nul\x00", "x" * 300],
        "nested": {"a": [1, (2, 3), {"b": (), "c": [[], {}]}], 7: "int key", None: (1,), (): [] if False else "t"},
        "memo": {"first": shared, "second": shared, "strs": ["repeat"] * 3},
        "large": list(range(100_000)) + ["s%d" % i for i in range(20_000)],
        "snapshot": snapshot_like(),
        "dag": dag,
    }
    del cases["nested"][()]
    return cases


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def first_refused(data):
    refused = {"GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX",
               "EMPTY_SET", "ADDITEMS", "FROZENSET", "PERSID", "BINPERSID", "NEXT_BUFFER", "READONLY_BUFFER"}
    for op, _arg, pos in pickletools.genops(data):
        if op.name in refused:
            return {"opcode": op.name, "offset": pos}
    raise AssertionError("no refused opcode")


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(out, "EXECUTED"),))


def main():
    os.makedirs(out, exist_ok=True)
    for name, value in valid_cases().items():
        if name == "dag":
            protos = [4]
        else:
            protos = [2, 3, 4, 5]
        for proto in protos:
            data = pickle.dumps(value, protocol=proto)
            if name not in ("dag", "floats"):
                assert pickle.loads(data) == value
            write(f"{name}-p{proto}.pickle", data)
            if name != "dag":
                with open(os.path.join(out, f"{name}-p{proto}.json"), "w") as f:
                    json.dump(tag(value), f)
    write("bytes-p3.pickle", pickle.dumps([b"", b"\x00\xffabc", bytes(range(256)) * 300], protocol=3))
    write("bytes-p5.pickle", pickle.dumps([bytearray(b"ba"), b"xy"], protocol=5))
    for name, v in [("bytes-p3", [b"", b"\x00\xffabc", bytes(range(256)) * 300]), ("bytes-p5", [bytearray(b"ba"), b"xy"])]:
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(tag(v), f)
    refused = {
        "system-p2": pickle.dumps(Evil(), protocol=2),
        "system-p4": pickle.dumps({"segments": [Evil()]}, protocol=4),
        "bytes-p2": pickle.dumps([b"abc"], protocol=2),
        "set-p4": pickle.dumps({"s": {1, 2}}, protocol=4),
        "complex-p4": pickle.dumps([1j], protocol=4),
    }
    for name, data in refused.items():
        write(f"refused-{name}.pickle", data)
        with open(os.path.join(out, f"refused-{name}.json"), "w") as f:
            json.dump(first_refused(data), f)
    hostile = {
        "deep": b"\x80\x04" + b"]" * 10_000 + b"a" * 9_999 + b".",
        "huge-unicode8": b"\x80\x04\x8d" + struct.pack("<Q", 2**60) + b"abc",
        "huge-unicode": b"\x80\x02X\xff\xff\xff\xffab",
        "huge-frame": b"\x80\x04\x95" + struct.pack("<Q", 2**40) + b"N.",
        "huge-long4": b"\x80\x02\x8b" + struct.pack("<i", 1_000_000) + b"\x01" * 1_000_000 + b".",
        "cycle": b"\x80\x04]\x94h\x00a.",
        # a = []; b = [a]; then a.append(b): EMPTY_LIST MEMOIZE(0) EMPTY_LIST MEMOIZE(1) BINGET 0 APPEND (b=[a]) BINGET 0 BINGET 1 APPEND
        "cycle-2": b"\x80\x04]\x94]\x94h\x00ah\x00h\x01a0.",
        "bad-utf8": b"\x80\x04\x8c\x02\xff\xfe\x94.",
        "surrogate": pickle.dumps("\ud800", protocol=4),
        "protocol0": pickle.dumps([1], protocol=0),
        "no-stop": pickle.dumps([1, 2], protocol=4)[:-1],
        "frame-straddle": b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8c\x05hello.",
    }
    for name, data in hostile.items():
        write(f"hostile-{name}.pickle", data)


main()
