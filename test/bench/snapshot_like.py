"""Writes a large memory-snapshot-shaped pickle (plain data laid out as torch documents it, no GPU
figures) and prints how long CPython's own pickle.load takes to read it back, in ms.
Usage: snapshot_like.py OUT_FILE"""
import pickle
import random
import sys
import time

rng = random.Random(0)
stacks = [[{"filename": f"/home/u/model_{s % 40}.py", "line": 10 + d, "name": f"f{d}"} for d in range(12)] for s in range(500)]
segments = []
addr = 0x7F00_0000_0000
for s in range(2000):
    blocks, a = [], addr
    for b in range(20):
        size = 512 * rng.randint(1, 64)
        blocks.append({"address": a, "size": size, "requested_size": size - rng.randint(0, 511), "state": "active_allocated" if b % 3 else "inactive", "frames": rng.choice(stacks)})
        a += size
    segments.append({"device": 0, "address": addr, "total_size": a - addr, "allocated_size": 0, "active_size": 0, "requested_size": 0,
                     "stream": 0, "segment_type": "small", "segment_pool_id": (0, 0), "is_expandable": False, "frames": [], "blocks": blocks})
    addr += 2 << 20
traces = [{"action": rng.choice(["alloc", "free_requested", "free_completed"]), "addr": addr + 512 * i, "size": 512 * (i % 97 + 1),
           "stream": 0, "time_us": 1_716_000_000_000_000 + i, "frames": rng.choice(stacks)} for i in range(150_000)]
data = pickle.dumps({"segments": segments, "device_traces": [traces], "allocator_settings": {}, "external_annotations": []})
with open(sys.argv[1], "wb") as f:
    f.write(data)
best = min((lambda t0: (pickle.loads(data), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(3))
print(f"{best * 1000:.1f}")
