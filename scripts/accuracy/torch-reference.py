#!/usr/bin/python3
"""PyTorch's own accounting of a training step and an inference pass, for MemLens's held-out models.

The reference that MemLens's estimates are held against (issue 13). No MemLens code runs here and
no MemLens rule is ever tuned on these models. Every figure comes from torch itself on CPU:

- saved for backward: `torch.autograd.graph.saved_tensors_hooks` sees every tensor autograd saves
  during the forward (and the loss); tensors are deduplicated by storage (views share their base's
  storage), and storages of parameters, buffers and the batch are split out as their own figures.
  Per autograd node type, each storage is booked to the first node (in forward order) saving it.
- gradients after backward and AdamW state after `step()` (the per-element moments and the scalar
  step counters separately); parameter count `sum(p.numel() for p in model.parameters())`, buffers.
- step peaks from the profiler's allocation timeline (`torch.profiler.profile(activities=[CPU],
  profile_memory=True, with_stack=True)`, events from
  `prof.profiler.kineto_results.experimental_event_tree()`), with `record_function` ranges per
  phase: zero_grad, forward, loss, backward, optimizer. Three steps from a fresh model and a fresh
  AdamW in one profiled run: step 1 creates the optimizer state inside `step()`; step 2 is the
  steady state with `zero_grad(set_to_none=True)` (the previous gradients are freed before the
  forward); step 3 the steady state with `set_to_none=False` (they are zeroed and kept). Each
  steady step starts from what a step of its own kind leaves: gradients and optimizer state.
- the inference peak: eval mode under `torch.inference_mode()`, one forward.

Peaks are absolute bytes: the storages alive before profiling starts (parameters, buffers, the
batch) plus the bytes of allocations made while profiling that are still live. The CPU allocator
caches nothing, so allocated bytes are the bytes held. A free of a block allocated before the
profiler started carries no size (torch warns) and is ignored; nothing the steps free was
allocated before them.

Usage: /usr/bin/python3 scripts/accuracy/torch-reference.py [--only NAME ...] [--out FILE]
Writes .cache/accuracy/torch-reference.json (schema memlens.torch-reference/1).
"""
import argparse
import bisect
import importlib.util
import json
import os
import platform
import sys
import time
import warnings

import torch
from torch.profiler import ProfilerActivity, profile, record_function

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS_DIR = os.path.join(HERE, "torch-models")
DEFAULT_OUT = os.path.join(ROOT, ".cache", "accuracy", "torch-reference.json")
SEED = 0
# (what the step is, zero_grad's set_to_none); grads are None before step 1, so its choice is moot.
STEPS = (("firstStep", True), ("steadySetToNone", True), ("steadyZeroFill", False))
PHASES = ("zero_grad", "forward", "loss", "backward", "optimizer")

# name -> (file in torch-models/, batch, seq or None). Small batches: a few minutes on 2 cores.
MODELS = {
    "resnet18": ("resnet18.py", 4, None),
    "resnet50": ("resnet50.py", 2, None),
    "efficientnet_b0": ("efficientnet_b0.py", 4, None),
    "mobilenet_v3_large": ("mobilenet_v3.py", 4, None),
    "vit_b_16": ("vit_b_16.py", 1, None),
    "gpt2_style": ("gpt2_style.py", 2, 128),
    "llama_style": ("llama_style.py", 2, 128),
}


def load(file):
    path = os.path.join(MODELS_DIR, file)
    spec = importlib.util.spec_from_file_location("heldout_" + os.path.splitext(file)[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def storage_key(t):
    return t.storage().data_ptr()


def storage_bytes(t):
    return t.storage().nbytes()


def unique_bytes(tensors):
    seen = {}
    for t in tensors:
        if t is not None and t.storage().nbytes() > 0:
            seen[storage_key(t)] = storage_bytes(t)
    return sum(seen.values())


def fresh(module, batch, seq):
    """The model and batch from a fixed seed, so every measurement sees the same tensors."""
    torch.manual_seed(SEED)
    model = module.build_model()
    inputs, targets = module.make_batch(batch, seq)
    return model, tuple(inputs), targets


def counts(model, inputs, targets):
    params = list(model.parameters())
    return {
        "params": sum(p.numel() for p in params),
        "trainableParams": sum(p.numel() for p in params if p.requires_grad),
        "parameterBytes": unique_bytes(params),
        "bufferBytes": unique_bytes(list(model.buffers())),
        "bufferCount": len(list(model.buffers())),
        "batchBytes": unique_bytes(list(inputs) + [targets]),
    }


def forward_order(root):
    """Autograd nodes reachable from root in forward (topological) order."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if node is None:
            continue
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child, _ in node.next_functions:
            stack.append((child, False))
    return order  # post-order from the loss: producers before consumers


def saved_of(node):
    out = []
    for name in dir(node):
        if not name.startswith("_saved_"):
            continue
        try:
            value = getattr(node, name)
        except Exception:
            continue  # a saved value already released or not a tensor accessor
        values = value if isinstance(value, (tuple, list)) else [value]
        out.extend(v for v in values if isinstance(v, torch.Tensor))
    return out


def measure_saved(module, batch, seq):
    model, inputs, targets = fresh(module, batch, seq)
    model.train()
    params = {storage_key(p) for p in model.parameters()}
    buffers = {storage_key(b) for b in model.buffers()}
    batch_keys = {storage_key(t) for t in list(inputs) + [targets]}
    phase = ["forward"]
    packed = {}  # storage -> (phase, bytes), first save wins

    def pack(t):
        key = storage_key(t)
        if key not in packed and storage_bytes(t) > 0:
            packed[key] = (phase[0], storage_bytes(t))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(*inputs)
        phase[0] = "loss"
        loss = module.loss_fn(out, targets)

    figures = {"forward": 0, "loss": 0, "parameters": 0, "buffers": 0, "batch": 0}
    for key, (ph, nbytes) in packed.items():
        if key in params:
            figures["parameters"] += nbytes
        elif key in buffers:
            figures["buffers"] += nbytes
        elif key in batch_keys:
            figures["batch"] += nbytes
        else:
            figures[ph] += nbytes

    by_op, booked = {}, set()
    for node in forward_order(loss.grad_fn):
        for t in saved_of(node):
            key = storage_key(t)
            if key in booked or key not in packed or key in params or key in buffers or key in batch_keys:
                continue
            booked.add(key)
            name = node.name()
            by_op[name] = by_op.get(name, 0) + packed[key][1]
    return {
        "activationBytes": figures["forward"],
        "lossBytes": figures["loss"],
        "parameterBytes": figures["parameters"],
        "bufferBytes": figures["buffers"],
        "batchBytes": figures["batch"],
        "byNode": dict(sorted(by_op.items(), key=lambda kv: -kv[1])),
        "unattributedBytes": figures["forward"] + figures["loss"] - sum(by_op.values()),
    }


def walk(events):
    stack = list(events)
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.children)


def timeline(prof):
    """(time-ordered allocation events as (t, ptr, size)), {range name: [(start, end)]}."""
    allocations, ranges = [], {}
    for e in walk(prof.profiler.kineto_results.experimental_event_tree()):
        tag = str(e.tag)
        if tag.endswith("Allocation"):
            allocations.append((e.start_time_ns, e.id, e.extra_fields.ptr, e.extra_fields.alloc_size))
        elif tag.endswith("TorchOp") and e.name.startswith("memlens."):
            ranges.setdefault(e.name, []).append((e.start_time_ns, e.end_time_ns))
    allocations.sort()
    return [(t, ptr, size) for t, _, ptr, size in allocations], ranges


def live_series(allocations):
    """Live bytes after each event, counting only blocks allocated while profiling; and each
    block's lifetime (ptr, size, start, end) for classifying what is live at a peak."""
    live, total, series, blocks = {}, 0, [], []
    for t, ptr, size in allocations:
        if size > 0:
            live[ptr] = (size, t)
            total += size
        elif ptr in live:
            s, start = live.pop(ptr)
            total -= s
            blocks.append((ptr, s, start, t))
        series.append((t, total))
    end = float("inf")
    blocks.extend((ptr, s, start, end) for ptr, (s, start) in live.items())
    return series, blocks


def peak_in(series, windows):
    best = (0, None)
    times = [t for t, _ in series]
    for start, end in windows:
        i = bisect.bisect_left(times, start)
        while i < len(series) and series[i][0] <= end:
            if series[i][1] > best[0]:
                best = (series[i][1], series[i][0])
            i += 1
    return best


def classify(blocks, at, marks):
    """Bytes live at time `at` that are gradients / optimizer state by the pointers recorded at
    the marks (end of backward, end of optimizer) of the step containing `at`."""
    grads, state, other = 0, 0, 0
    for ptr, size, start, end in blocks:
        if not (start <= at < end):
            continue
        if any(start <= m_at < end and ptr in ptrs for m_at, ptrs in marks["gradients"]):
            grads += size
        elif any(start <= m_at < end and ptr in ptrs for m_at, ptrs in marks["optimizerState"]):
            state += size
        else:
            other += size
    return {"gradients": grads, "optimizerState": state, "activationsAndTemporaries": other}


def optimizer_state(optimizer):
    moments, counters = [], []
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor):
                (counters if value.numel() == 1 else moments).append(value)
    return moments, counters


def measure_steps(module, batch, seq):
    model, inputs, targets = fresh(module, batch, seq)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    baseline = unique_bytes(list(model.parameters()) + list(model.buffers()) + list(inputs) + [targets])
    marks = {"gradients": [], "optimizerState": []}
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, with_stack=True) as prof:
        for step, (_, set_to_none) in enumerate(STEPS):
            rf = lambda phase: record_function("memlens.step%d.%s" % (step, phase))
            with rf("zero_grad"):
                optimizer.zero_grad(set_to_none=set_to_none)
            with rf("forward"):
                out = model(*inputs)
            with rf("loss"):
                loss = module.loss_fn(out, targets)
                del out
            with rf("backward"):
                loss.backward()
            marks["gradients"].append((time.time_ns(), {p.grad.data_ptr() for p in model.parameters() if p.grad is not None}))
            with rf("optimizer"):
                optimizer.step()
            moments, counters = optimizer_state(optimizer)
            marks["optimizerState"].append((time.time_ns(), {t.data_ptr() for t in moments + counters}))
            del loss
    allocations, ranges = timeline(prof)
    # time.time_ns() and the profiler's clock can differ; re-anchor marks to the end of their range.
    for name, key in (("backward", "gradients"), ("optimizer", "optimizerState")):
        marks[key] = [(ranges["memlens.step%d.%s" % (s, name)][0][1], ptrs) for s, (_, ptrs) in enumerate(marks[key])]
    series, blocks = live_series(allocations)
    steps = {}
    for step, (kind, set_to_none) in enumerate(STEPS):
        windows = [w for ph in PHASES for w in ranges.get("memlens.step%d.%s" % (step, ph), [])]
        peak, at = peak_in(series, windows)
        phase = next((ph for ph in PHASES for s, e in ranges.get("memlens.step%d.%s" % (step, ph), []) if at is not None and s <= at <= e), None)
        by_phase = {ph: baseline + peak_in(series, ranges.get("memlens.step%d.%s" % (step, ph), []))[0] for ph in PHASES}
        steps[kind] = {
            "setToNone": set_to_none,
            "peakBytes": baseline + peak,
            "phase": phase,
            "byPhase": by_phase,
            "atPeak": dict(classify(blocks, at, marks), baseline=baseline) if at is not None else None,
        }
    moments, counters = optimizer_state(optimizer)
    return {
        "baselineBytes": baseline,
        **steps,
        "gradientBytes": unique_bytes([p.grad for p in model.parameters()]),
        "optimizerStateBytes": unique_bytes(moments),
        "optimizerStepCounterBytes": unique_bytes(counters),
    }


def measure_inference(module, batch, seq):
    model, inputs, targets = fresh(module, batch, seq)
    model.eval()
    baseline = unique_bytes(list(model.parameters()) + list(model.buffers()) + list(inputs))
    with torch.inference_mode():
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True, with_stack=True) as prof:
            with record_function("memlens.inference.forward"):
                model(*inputs)
    allocations, ranges = timeline(prof)
    series, _ = live_series(allocations)
    peak, _ = peak_in(series, ranges["memlens.inference.forward"])
    return {"peakBytes": baseline + peak, "baselineBytes": baseline}


def measure_model(name, file, batch, seq):
    module, path = load(file)
    started = time.time()
    model, inputs, targets = fresh(module, batch, seq)
    result = {
        "name": name,
        "file": os.path.relpath(path, ROOT),
        "batch": batch,
        "seq": seq,
        "inputs": [{"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")} for t in inputs],
        "optimizer": "AdamW (torch defaults: single-tensor, foreach=None)",
        "counts": counts(model, inputs, targets),
    }
    del model
    result["saved"] = measure_saved(module, batch, seq)
    result["train"] = measure_steps(module, batch, seq)
    result["inference"] = measure_inference(module, batch, seq)
    result["seconds"] = round(time.time() - started, 1)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="model names (default: all)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    unknown = [n for n in (args.only or []) if n not in MODELS]
    if unknown:
        sys.exit("torch-reference: unknown model %s (known: %s)" % (", ".join(unknown), ", ".join(MODELS)))
    warnings.filterwarnings("ignore", message="Memory block of unknown size")
    results = []
    for name, (file, batch, seq) in MODELS.items():
        if args.only and name not in args.only:
            continue
        print("torch-reference: %s (batch %d%s)" % (name, batch, ", seq %d" % seq if seq else ""), file=sys.stderr, flush=True)
        results.append(measure_model(name, file, batch, seq))
        print("  %.1f s" % results[-1]["seconds"], file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({
            "schema": "memlens.torch-reference/1",
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "steps": [kind for kind, _ in STEPS],
            "models": results,
        }, f, indent=1)
    print("torch-reference: wrote %s" % os.path.relpath(args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
