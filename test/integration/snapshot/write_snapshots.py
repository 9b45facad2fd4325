"""Writes memory-snapshot-shaped pickles in the layouts PyTorch has used since 2023, built from
plain Python data (no GPU, no torch), and for each the typed records MemLens must decode, computed
here in Python from the same data. The layouts follow torch/cuda/memory.py (`_snapshot`
docstring), torch/_utils.py (`_Frame`, `_Block`, `_Segment`, `_TraceEntry`) and the keys written by
THCPModule_memorySnapshot in torch/csrc/cuda/Module.cpp (torch 2.0 wrote `history` in blocks and
no block address or trace time). Nothing here is a measurement. Usage: write_snapshots.py OUT_DIR"""
import json
import os
import pickle
import sys

out = sys.argv[1]
BASE = 0x7F2A_0000_0000
MiB = 1 << 20


def frame(file, line, name, **fx):
    f = {"filename": file, "line": line, "name": name}
    f.update(fx)
    return f


MODEL = [frame("/home/u/model.py", 42, "forward"), frame("/usr/lib/python3/torch/nn/modules/module.py", 1501, "_call_impl")]
LOSS = [frame("/home/u/train.py", 17, "step")]
FX = [frame("/tmp/torchinductor_u/fx_graph_abc.py", 30, "forward", fx_node_op="call_function",
            fx_node_name="addmm", fx_node_target="aten.addmm.default",
            fx_original_trace='File "/home/u/model.py", line 42, in forward\n    return self.fc(x)')]


def blocks_of(seg_addr, spec, legacy):
    out_blocks, addr = [], seg_addr
    for size, req, state, fr in spec:
        b = {"size": size, "state": state}
        if legacy != "torch-1.13":
            b["requested_size"] = req
        if legacy:
            if state != "inactive":
                b["history"] = [{"addr": addr, "real_size": req, "frames": fr}]
        else:
            b["address"] = addr
            b["frames"] = fr
        out_blocks.append(b)
        addr += size
    return out_blocks


SEGMENTS = [  # (address, total, pool, stream, blocks: (size, requested, state, frames))
    (BASE, 2 * MiB, "small", 0, [(512, 4, "active_allocated", MODEL), (1024, 1000, "active_allocated", LOSS),
                                 (2 * MiB - 1536, 0, "inactive", [])]),
    (BASE + 64 * MiB, 20 * MiB, "large", 0, [(2 * MiB + 512, 2 * MiB + 100, "active_allocated", MODEL),
                                             (20 * MiB - 2 * MiB - 512, 0, "inactive", [])]),
    (BASE + 128 * MiB, 12 * MiB, "large", 7, [(12 * MiB, 11 * MiB, "active_pending_free", LOSS)]),
]


def segment(addr, total, pool, stream, spec, fmt):
    legacy = fmt if fmt in ("torch-1.13", "torch-2.0") else None
    s = {"device": 0, "address": addr, "total_size": total, "stream": stream, "segment_type": pool,
         "blocks": blocks_of(addr, spec, legacy)}
    if fmt != "torch-1.13":
        s["segment_pool_id"] = (0, 0)
    if fmt != "torch-2.1":  # the others write the sums; the 2.1-shaped file leaves them out to test derivation
        s["allocated_size"] = sum(b[0] for b in spec if b[2] == "active_allocated")
        s["active_size"] = sum(b[0] for b in spec if b[2] != "inactive")
        if fmt != "torch-1.13":
            s["requested_size"] = sum(b[1] for b in spec if b[2] != "inactive")
    if not legacy:
        s["frames"] = MODEL if pool == "large" else []
    if fmt == "torch-2.6":
        s["is_expandable"] = stream == 7
    return s


def traces(fmt):
    entries = [
        {"action": "segment_alloc", "addr": BASE, "size": 2 * MiB, "stream": 0, "frames": MODEL},
        {"action": "alloc", "addr": BASE, "size": 4, "stream": 0, "frames": MODEL},
        {"action": "alloc", "addr": BASE + 512, "size": 1000, "stream": 0, "frames": LOSS},
        {"action": "free_requested", "addr": BASE + 512, "size": 1000, "stream": 0, "frames": LOSS},
        {"action": "free_completed", "addr": BASE + 512, "size": 1000, "stream": 0, "frames": LOSS},
        {"action": "oom", "device_free": 3 * MiB, "size": 80 * MiB, "stream": 0, "frames": FX if fmt == "torch-2.6" else MODEL},
    ]
    if fmt == "torch-2.6":
        entries += [{"action": "segment_map", "addr": BASE + 128 * MiB, "size": 20 * MiB, "stream": 7, "frames": []},
                    {"action": "segment_unmap", "addr": BASE + 128 * MiB, "size": 20 * MiB, "stream": 7, "frames": []},
                    {"action": "user_defined", "addr": 0, "size": 0, "stream": 0, "frames": [],
                     "user_metadata": "phase=backward", "compile_context": "[0/1]"},
                    {"action": "future_action", "addr": 0, "size": 0, "stream": 0, "frames": []}]
    for t, e in enumerate(entries):
        if fmt != "torch-2.0":
            e["time_us"] = 1_716_000_000_000_000 + 10 * t
    return [entries, []]


def snapshot(fmt):
    if fmt == "torch-1.13":  # torch 1.13's _snapshot() returned the list of segments alone
        return [segment(*seg, fmt) for seg in SEGMENTS]
    s = {"segments": [segment(*seg, fmt) for seg in SEGMENTS], "device_traces": traces(fmt)}
    if fmt == "torch-2.6":
        s["allocator_settings"] = {"PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True", "max_split_size": -1,
                                   "garbage_collection_threshold": 0.0, "expandable_segments": True,
                                   "pinned_num_register_threads": 1, "release_lock_on_cudamalloc": False,
                                   "pinned_use_cuda_host_register": False,
                                   "roundup_power2_divisions": {str(1 << i): (4 if i < 3 else 0) for i in range(16)}}
        s["external_annotations"] = [{"name": "ProfilerStep#1", "stage": "START", "device": 0, "time_us": 1_716_000_000_000_001}]
    return s


# ---- what MemLens must decode, derived here from the same data ---------------------------------

def typed_frames(fr):
    def one(f):
        fx = {k: f.get(k) for k in ("fx_node_op", "fx_node_name", "fx_node_target", "fx_original_trace")}
        fxrec = None if all(v is None for v in fx.values()) else {
            "op": fx["fx_node_op"], "nodeName": fx["fx_node_name"], "target": fx["fx_node_target"], "originalTrace": fx["fx_original_trace"]}
        return {"filename": f["filename"], "line": f["line"], "name": f["name"], "fx": fxrec}
    return [one(f) for f in fr]


def expected(fmt):
    segs = []
    for addr, total, pool, stream, spec in SEGMENTS:
        blocks, a = [], addr
        for size, req, state, fr in spec:
            # torch 1.13 recorded no requested size: history[0].real_size, else the block size (as _memory_viz reads it)
            legacy_free = fmt == "torch-1.13" and state == "inactive"
            blocks.append({"address": a, "size": size, "requestedSize": size if legacy_free else req, "state": state,
                           "frames": [] if state == "inactive" else typed_frames(fr)})
            a += size
        segs.append({"device": 0, "address": addr, "totalSize": total,
                     "allocatedSize": sum(b["size"] for b in blocks if b["state"] == "active_allocated"),
                     "activeSize": sum(b["size"] for b in blocks if b["state"] != "inactive"),
                     "requestedSize": sum(s[1] for s in spec if s[2] != "inactive"),
                     "stream": stream, "pool": pool, "privatePoolId": None if fmt == "torch-1.13" else [0, 0],
                     "isExpandable": fmt == "torch-2.6" and stream == 7,
                     "frames": [] if fmt in ("torch-1.13", "torch-2.0") or pool == "small" else typed_frames(MODEL), "blocks": blocks})
    if fmt == "torch-1.13":
        return {"segments": segs, "deviceTraces": [], "allocatorSettings": None, "externalAnnotations": []}
    ents = []
    for e in traces(fmt)[0]:
        if e["action"] == "future_action":
            continue
        oom = e["action"] == "oom"
        ents.append({"action": e["action"], "addr": None if oom else e["addr"], "size": e["size"], "stream": e["stream"],
                     "timeUs": e.get("time_us"), "deviceFree": e["device_free"] if oom else None,
                     "frames": typed_frames(e["frames"]), "compileContext": e.get("compile_context"),
                     "userMetadata": e.get("user_metadata")})
    settings = None
    annotations = []
    if fmt == "torch-2.6":
        settings = {"allocConf": "expandable_segments:True", "maxSplitSize": "Infinity", "garbageCollectionThreshold": 0.0,
                    "expandableSegments": True,
                    "roundupPower2Divisions": [{"intervalMiB": 1 << i, "divisions": 4 if i < 3 else 0} for i in range(16)]}
        annotations = [{"device": 0, "timeUs": 1_716_000_000_000_001, "metadata": {"name": "ProfilerStep#1", "stage": "START"}}]
    return {"segments": segs, "deviceTraces": [ents, []], "allocatorSettings": settings, "externalAnnotations": annotations}


os.makedirs(out, exist_ok=True)
for fmt in ("torch-1.13", "torch-2.0", "torch-2.1", "torch-2.6"):
    for proto in (2, pickle.DEFAULT_PROTOCOL):
        with open(os.path.join(out, f"{fmt}-p{proto}.pickle"), "wb") as f:
            pickle.dump(snapshot(fmt), f, protocol=proto)
    with open(os.path.join(out, f"{fmt}.expected.json"), "w") as f:
        json.dump(expected(fmt), f)
print(pickle.DEFAULT_PROTOCOL)
