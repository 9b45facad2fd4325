"""Measure a user's PyTorch model with torch's own tools, for MemLens's `--run`.

Run as `python measure_torch.py REQUEST.json`. The model is found as the export finds it
(memlens_user_code.py). In training mode, a script that trains its model runs its own loop for
N steps (its data, loss and optimizer); otherwise MemLens runs N steps of its own: the model's
output as the loss when it is a scalar, else the sum of its float outputs, and the optimizer the
script built or the one the settings name. In inference mode the model runs N forwards in eval
mode under `torch.inference_mode()`.

CPU: `torch.profiler.profile(activities=[CPU], profile_memory=True, with_stack=True)` records
every allocation and free with its Python stack (events from
`prof.profiler.kineto_results.experimental_event_tree()`); a TorchFunctionMode that does nothing
makes every torch call a Python frame whose caller is the user's line, so operators (`a @ b`)
have lines too. Phases are `record_function` ranges. CUDA: `torch.cuda.memory` counters per phase
(allocated and reserved), and `_record_memory_history` device traces for the lines where the
installed torch has them (2.1 and later); written for CUDA machines, not run on CPU-only ones.

Live bytes at the peak are attributed to the user's lines (innermost frame of model code), so that
the lines and the named buckets sum to the peak: forward allocations to their line; backward ones
to the forward line whose op they belong to (the autograd node's sequence number equals its
forward op's); gradients and optimizer state by their pointers after backward and step; what was
allocated before the run (parameters, buffers, inputs) as such. The result JSON is
{"ok": true, ...} or {"ok": false, "kind", "error"}; exit code 0 or 3.
"""
import bisect
import contextlib
import json
import os
import sys
import time
import traceback

from memlens_user_code import (
    BridgeError, ExportPolicy, StopScript, clone_inputs, exception_reason, is_model_code,
    limit_memory, out_of_memory, resolve_model, set_torch, tensors_in,
)

BACKWARD_PREFIX = "autograd::engine::evaluate_function: "
# Python calls of the profiler's own module (record_function's __init__ and __enter__ make tensors).
PROFILER_CODE = "torch/autograd/profiler.py("
PHASES = ("zero_grad", "forward", "loss", "backward", "optimizer")


def storage_of(t):
    return (t.storage().data_ptr(), t.storage().nbytes())


def unique_bytes(tensors):
    seen = dict(storage_of(t) for t in tensors if t is not None)
    return sum(seen.values())


class Recorder:
    """The profiler, the line mode and the phase ranges of one measured run."""

    def __init__(self, torch, device):
        self.torch = torch
        self.device = device
        self.profiler = None
        self.mode = None
        self.open = None  # the record_function range now open
        self.marks = []  # (kind, step, mark name, {ptr}) for inputs, gradients and optimizer state
        self.baseline = {}
        self.cuda_phases = []  # (step, phase, peak allocated, peak reserved) on CUDA
        self.current = None
        self.started_at = None
        self.wall = 0.0

    def start(self, model, inputs, optimizer):
        torch = self.torch
        if self.device is None:  # the script's choice: where its model's parameters are
            self.device = "cuda" if next((p.is_cuda for p in model.parameters()), False) else "cpu"
        self.baseline = {
            "parameters": unique_bytes(list(model.parameters())),
            "buffers": unique_bytes(list(model.buffers())),
            "inputs": unique_bytes(inputs),
            "optimizerState": unique_bytes(state_tensors(torch, optimizer)),
            "gradients": unique_bytes([p.grad for p in model.parameters()]),
        }
        if self.device == "cuda":
            torch.cuda.synchronize()
            record_cuda_history(torch, True)
            torch.cuda.reset_peak_memory_stats()
            self.baseline_cuda = torch.cuda.memory_allocated()
        else:
            from torch.profiler import ProfilerActivity, profile
            self.profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True, with_stack=True)
            self.profiler.__enter__()
        self.mode = line_mode(torch)()
        self.mode.__enter__()
        self.started_at = time.perf_counter()

    def phase(self, step, name):
        self.end_phase()
        if self.device == "cuda":
            self.torch.cuda.reset_peak_memory_stats()
        self.current = (step, name)
        self.open = self.torch.autograd.profiler.record_function("memlens.step%d.%s" % (step, name))
        self.open.__enter__()

    def end_phase(self):
        if self.open is None:
            return
        self.open.__exit__(None, None, None)
        self.open = None
        if self.device == "cuda":
            torch = self.torch
            torch.cuda.synchronize()
            self.cuda_phases.append((self.current[0], self.current[1], torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved()))

    def mark(self, kind, step, ptrs):
        name = "memlens.mark%d" % len(self.marks)
        self.marks.append((kind, step, name, ptrs))
        with self.torch.autograd.profiler.record_function(name):
            pass

    def mark_gradients(self, step, model):
        self.mark("gradients", step, {p.grad.data_ptr() for p in model.parameters() if p.grad is not None})

    def mark_state(self, step, optimizer):
        self.mark("optimizerState", step, {t.data_ptr() for t in state_tensors(self.torch, optimizer)})

    def stop(self):
        if self.started_at is None:
            return
        self.end_phase()
        self.wall = time.perf_counter() - self.started_at
        self.started_at = None
        if self.mode is not None:
            self.mode.__exit__(None, None, None)
            self.mode = None
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)

    @property
    def running(self):
        return self.started_at is not None


def line_mode(torch):
    from torch.overrides import TorchFunctionMode

    class LineMode(TorchFunctionMode):
        """Passes every call through; being Python, it is a frame whose caller is the user's line."""

        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    return LineMode


def record_cuda_history(torch, enabled):
    record = torch.cuda.memory._record_memory_history
    try:
        record("all" if enabled else None, context="all", stacks="python")  # torch >= 2.1
    except TypeError:
        record(enabled)  # torch 1.13 - 2.0: live blocks' history only, no device traces


def state_tensors(torch, optimizer):
    if optimizer is None:
        return []
    return [v for state in optimizer.state.values() for v in state.values() if isinstance(v, torch.Tensor)]


# ---- how the steps run

class ScriptTraining(ExportPolicy):
    """The script's own loop, measured for `steps` steps from its first call of the model. A step
    ends at the optimizer's step() (or, without an optimizer, when the model is called again)."""

    def __init__(self, recorder, steps):
        self.recorder = recorder
        self.steps = steps
        self.step_index = 0
        self.stepped = False
        self.no_graph = False

    def first_call(self, capture, args, kwargs):
        torch = capture.torch
        # Kept for the record (shapes, a step of MemLens's own if the script turns out not to
        # train), copied before profiling: the profiler never sees them, as it never sees the
        # script's other tensors made before the run (its dataset).
        capture.args, capture.kwargs = clone_inputs(torch, list(args)), clone_inputs(torch, dict(kwargs))
        self.recorder.start(capture.model, [], capture.optimizer_of_model())
        self.recorder.phase(0, "forward")
        recorder = self.recorder

        def prepare():
            # Copies made while profiling: the run's inputs are allocations it sees, freed when
            # the script's next batch replaces them, as the script's own would be.
            run_args, run_kwargs = clone_inputs(torch, capture.args), clone_inputs(torch, capture.kwargs)
            recorder.mark("inputs", 0, {t.data_ptr() for t in tensors_in(torch, [run_args, run_kwargs])})
            return run_args, run_kwargs

        return prepare

    def call_returned(self, capture, output):
        if not capture.output_has_graph(output):
            self.no_graph = True
            self.recorder.stop()
            raise StopScript()
        self.recorder.phase(self.step_index, "loss")

    def second_call(self, capture):
        if not self.stepped:
            self.step_index += 1  # no optimizer step between two calls: the call starts a step
        self.stepped = False
        if self.step_index >= self.steps:
            self.recorder.stop()
            raise StopScript()
        self.recorder.phase(self.step_index, "forward")

    def backward(self, capture, run):
        self.recorder.phase(self.step_index, "backward")
        out = run()
        self.recorder.end_phase()
        self.recorder.mark_gradients(self.step_index, capture.model)
        return out

    def step(self, capture, run):
        optimizer = capture.optimizer_of_model()
        self.recorder.phase(self.step_index, "optimizer")
        out = run()
        self.recorder.end_phase()
        self.recorder.mark_state(self.step_index, optimizer)
        self.step_index += 1
        self.stepped = True
        if self.step_index >= self.steps:
            self.recorder.stop()
            raise StopScript()
        return out

    def zero_grad(self, capture, run):
        if not self.recorder.running:
            return run()
        self.recorder.phase(self.step_index, "zero_grad")
        out = run()
        self.recorder.end_phase()
        return out


def loss_of(torch, output):
    """The model's output when it is a scalar (a model that returns its loss), else the sum of its
    float outputs: every output gets a gradient, as the estimate assumes."""
    outputs = [t for t in tensors_in(torch, output) if t.dtype.is_floating_point and t.requires_grad]
    if len(outputs) == 1 and outputs[0].dim() == 0:
        return outputs[0], "the model's output"
    if not outputs:
        raise BridgeError("run", "the model's output has no gradient to train with (no float output that requires grad)")
    return sum(t.sum() for t in outputs), "the sum of the model's outputs"


OPTIMIZERS = {"adamw": ("AdamW", {}), "adam": ("Adam", {}), "sgd": ("SGD", {"lr": 0.01}), "sgd-momentum": ("SGD", {"lr": 0.01, "momentum": 0.9})}


def settings_optimizer(torch, model, kind):
    if kind == "none":
        return None
    if kind not in OPTIMIZERS:
        raise BridgeError("run", "the optimizer %s is not in torch.optim; measure with --optimizer adamw, adam, sgd, sgd-momentum or none" % kind)
    name, options = OPTIMIZERS[kind]
    return getattr(torch.optim, name)(model.parameters(), **options)


def synthetic_training(torch, recorder, model, args, kwargs, optimizer, steps):
    model.train()
    recorder.start(model, tensors_in(torch, [args, kwargs]), optimizer)
    loss_label = None
    for k in range(steps):
        if optimizer is not None:
            recorder.phase(k, "zero_grad")
            optimizer.zero_grad(set_to_none=True)
        recorder.phase(k, "forward")
        out = model(*args, **kwargs)
        recorder.phase(k, "loss")
        loss, loss_label = loss_of(torch, out)
        del out
        recorder.phase(k, "backward")
        loss.backward()
        recorder.end_phase()
        recorder.mark_gradients(k, model)
        if optimizer is not None:
            recorder.phase(k, "optimizer")
            optimizer.step()
            recorder.end_phase()
            recorder.mark_state(k, optimizer)
        del loss
    recorder.stop()
    return loss_label


def inference(torch, recorder, model, args, kwargs, steps):
    model.eval()
    with torch.inference_mode():
        recorder.start(model, tensors_in(torch, [args, kwargs]), None)
        for k in range(steps):
            recorder.phase(k, "forward")
            model(*args, **kwargs)
        recorder.stop()


# ---- the CPU profile: allocations, their attribution, the peak

def walk(events):
    stack = list(events)
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.children)


RESOLVED = {}


def resolve_file(name):
    """The profiler writes file names relative to the sys.path entry they were found under
    (`torch/nn/modules/linear.py`, `train.py`): the absolute path, memoised."""
    if name not in RESOLVED:
        found = name if os.path.isabs(name) else None
        for root in [] if found else [p or os.getcwd() for p in sys.path]:
            candidate = os.path.join(root, name)
            if os.path.isfile(candidate):
                found = os.path.abspath(candidate)
                break
        RESOLVED[name] = found
    return RESOLVED[name]


def frame_line(e):
    """(file, line) of the model code that made this Python call, if it is model code."""
    caller = getattr(e.extra_fields, "caller", None)
    if caller is None:
        return None
    file = resolve_file(caller.file_name)
    if file is not None and is_model_code(file):
        return (file, caller.line_number)
    return None


class Attributor:
    """For each event, the line of model code below it, and the backward node above it."""

    def __init__(self):
        self.memo = {}

    def context(self, e):
        """(line or None, backward sequence number or None, inside the profiler's own code) for
        event e, memoised by event id."""
        chain = []
        cur = e
        while cur is not None and cur.id not in self.memo:
            chain.append(cur)
            cur = cur.parent
        line, seq, own = self.memo[cur.id] if cur is not None else (None, None, False)
        for ev in reversed(chain):
            tag = str(ev.tag)
            if tag.endswith("PyCall") or tag.endswith("PyCCall"):
                line = frame_line(ev) or line
                own = own or ev.name.startswith(PROFILER_CODE)
            elif tag.endswith("TorchOp") and ev.name.startswith(BACKWARD_PREFIX):
                seq, line = ev.extra_fields.sequence_number, None
            self.memo[ev.id] = (line, seq, own)
        return self.memo[e.id]


def cpu_profile(prof):
    """Allocations in time order as (t, ptr, size, line, backward seq); the ranges by name; the
    line of each forward op by its sequence number."""
    attributor = Attributor()
    allocations, ranges, forward_lines = [], {}, {}
    for e in walk(prof.profiler.kineto_results.experimental_event_tree()):
        tag = str(e.tag)
        if tag.endswith("Allocation"):
            line, seq, own = attributor.context(e.parent) if e.parent is not None else (None, None, False)
            if own:
                continue  # record_function's handles: the measurement's bookkeeping, not the model's
            allocations.append((e.start_time_ns, e.id, e.extra_fields.ptr, e.extra_fields.alloc_size, line, seq))
        elif tag.endswith("TorchOp"):
            if e.name.startswith("memlens."):
                ranges.setdefault(e.name, []).append((e.start_time_ns, e.end_time_ns))
                continue
            seq = e.extra_fields.sequence_number
            if seq >= 0 and not e.name.startswith(BACKWARD_PREFIX):
                line, in_backward, _ = attributor.context(e)
                if in_backward is None and line is not None and seq not in forward_lines:
                    forward_lines[seq] = line
    allocations.sort(key=lambda a: (a[0], a[1]))
    return allocations, ranges, forward_lines


def blocks_of(allocations):
    """Live bytes after each event (blocks allocated while profiling), and each block's lifetime."""
    live, total, series, blocks = {}, 0, [], []
    for t, _, ptr, size, line, seq in allocations:
        if size > 0:
            live[ptr] = (size, t, line, seq)
            total += size
        elif ptr in live:
            s, start, l, q = live.pop(ptr)
            total -= s
            blocks.append((ptr, s, start, t, l, q))
        series.append((t, total))
    blocks.extend((ptr, s, start, float("inf"), l, q) for ptr, (s, start, l, q) in live.items())
    return series, blocks


def step_windows(ranges, steps):
    """Per step, [first range start, next step's first range start)."""
    starts = []
    for k in range(steps):
        mine = [s for ph in PHASES for s, _ in ranges.get("memlens.step%d.%s" % (k, ph), [])]
        if mine:
            starts.append((k, min(mine)))
    out = {}
    for i, (k, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else float("inf")
        out[k] = (start, end)
    return out


def phase_at(ranges, step, t):
    for ph in PHASES:
        for s, e in ranges.get("memlens.step%d.%s" % (step, ph), []):
            if s <= t <= e:
                return ph
    return None


def measure_cpu(recorder, steps):
    allocations, ranges, forward_lines = cpu_profile(recorder.profiler)
    series, blocks = blocks_of(allocations)
    times = [t for t, _ in series]
    base = sum(recorder.baseline.values())
    per_step = []
    for k, (start, end) in sorted(step_windows(ranges, steps).items()):
        i = bisect.bisect_left(times, start)
        peak, at = 0, start
        while i < len(series) and series[i][0] < end:
            if series[i][1] > peak:
                peak, at = series[i][1], series[i][0]
            i += 1
        per_step.append({"step": k, "peakBytes": base + peak, "at": at, "phase": phase_at(ranges, k, at) or "script"})
    if not per_step:
        raise BridgeError("run", "the run measured no step (the script stopped before its first step ended)")
    top = max(per_step, key=lambda s: s["peakBytes"])
    marks = {name: (kind, step, ptrs) for kind, step, name, ptrs in recorder.marks}
    mark_times = [(ranges[name][0][0], kind, ptrs) for name, (kind, _, ptrs) in marks.items() if name in ranges]
    at_peak = attribute(blocks, top["at"], mark_times, forward_lines, ranges, top["step"])
    for bucket, value in recorder.baseline.items():
        at_peak["buckets"][bucket] = at_peak["buckets"].get(bucket, 0) + value
    return per_step, top, at_peak


def attribute(blocks, at, marks, forward_lines, ranges, step):
    lines, buckets = {}, {}

    def add_line(line, phase, size):
        rec = lines.setdefault(line, {"file": line[0], "line": line[1], "bytes": 0, "forwardBytes": 0, "backwardBytes": 0})
        rec["bytes"] += size
        rec["backwardBytes" if phase == "backward" else "forwardBytes"] += size

    for ptr, size, start, end, line, seq in blocks:
        if not (start <= at < end):
            continue
        kind = next((k for t, k, ptrs in marks if start <= t < end and ptr in ptrs), None)
        if kind is not None:
            buckets[kind] = buckets.get(kind, 0) + size
        elif seq is not None:
            owner = forward_lines.get(seq)
            if owner is not None:
                add_line(owner, "backward", size)
            else:
                buckets["backward"] = buckets.get("backward", 0) + size
        elif line is not None:
            add_line(line, "forward", size)
        else:
            bucket = "optimizer" if phase_at(ranges, step, start) == "optimizer" else "other"
            buckets[bucket] = buckets.get(bucket, 0) + size
    ordered = sorted(lines.values(), key=lambda r: -r["bytes"])
    return {"lines": ordered, "buckets": buckets}


# ---- CUDA: the caching allocator's own counters and, where torch has them, device traces

def measure_cuda(torch, recorder, steps):
    base = recorder.baseline_cuda
    per_step = {}
    for step, phase, allocated, reserved in recorder.cuda_phases:
        cur = per_step.setdefault(step, {"step": step, "peakBytes": 0, "reservedBytes": 0, "phase": None, "at": None})
        if allocated > cur["peakBytes"]:
            cur["peakBytes"], cur["phase"] = allocated, phase
        cur["reservedBytes"] = max(cur["reservedBytes"], reserved)
    per_step = [per_step[k] for k in sorted(per_step)]
    if not per_step:
        raise BridgeError("run", "the run measured no step (the script stopped before its first step ended)")
    top = max(per_step, key=lambda s: s["peakBytes"])
    snapshot = torch.cuda.memory._snapshot()
    record_cuda_history(torch, False)
    at_peak = cuda_attribution(snapshot, top["peakBytes"] - base)
    for bucket, value in recorder.baseline.items():
        at_peak["buckets"][bucket] = at_peak["buckets"].get(bucket, 0) + value
    known = sum(r["bytes"] for r in at_peak["lines"]) + sum(at_peak["buckets"].values())
    at_peak["buckets"]["other"] = at_peak["buckets"].get("other", 0) + max(0, top["peakBytes"] - known)
    return per_step, top, at_peak


def cuda_attribution(snapshot, peak):
    """Lines of the blocks live when the traced allocations (those made during the run) reach
    their maximum (torch >= 2.1 records device traces; without them everything is "other")."""
    traces = snapshot.get("device_traces") if isinstance(snapshot, dict) else None
    if not traces:
        return {"lines": [], "buckets": {}}
    live, total, best, best_live = {}, 0, -1, {}
    for ev in traces[0] if traces else []:
        action, addr, size = ev.get("action"), ev.get("addr"), ev.get("size", 0)
        if action == "alloc":
            live[addr] = (size, ev.get("frames") or [])
            total += size
        elif action == "free_completed" and addr in live:
            total -= live.pop(addr)[0]
        if total > best:
            best, best_live = total, dict(live)
    lines, buckets = {}, {}
    for size, frames in best_live.values():
        frame = next((f for f in frames if is_model_code(f.get("filename"))), None)
        if frame is None:
            # CUDA's backward runs on the autograd engine's device thread: no Python frames.
            buckets["backward"] = buckets.get("backward", 0) + size
            continue
        key = (os.path.abspath(frame["filename"]), frame["line"])
        rec = lines.setdefault(key, {"file": key[0], "line": key[1], "bytes": 0, "forwardBytes": 0, "backwardBytes": 0})
        rec["bytes"] += size
        rec["forwardBytes"] += size
    return {"lines": sorted(lines.values(), key=lambda r: -r["bytes"]), "buckets": buckets}


# ---- the run

def choose_device(torch, request, model):
    wanted = request.get("device", "auto")
    on_cuda = next((p.is_cuda for p in model.parameters()), False)
    if wanted == "cpu" or (wanted == "auto" and not on_cuda and not torch.cuda.is_available()):
        return "cpu"
    if not torch.cuda.is_available():
        raise BridgeError("run", "this PyTorch has no CUDA device (torch.cuda.is_available() is False); measure with --ep cpu")
    return "cuda"


def run(request):
    path = os.path.abspath(request["file"])
    try:
        import torch
    except ImportError as e:
        raise BridgeError("no-torch", "PyTorch is not installed for %s (%s)" % (sys.executable, exception_reason(e)))
    set_torch(torch)
    limit_memory(request.get("memoryLimitBytes"))
    sys.argv = [path]
    steps = int(request.get("steps", 3))
    training = request["mode"] == "train"
    # A script's own loop is measured on the device it chose; anything else on the one asked for.
    recorder = Recorder(torch, None)
    policy = ScriptTraining(recorder, steps) if training and request["entry"]["kind"] == "script" else ExportPolicy()
    try:
        resolved, capture = resolve_model(torch, request, path, policy)
    finally:
        recorder.stop()
    capture.uninstall()
    if resolved.error is not None and out_of_memory(resolved.error):
        raise resolved.error
    script_loop = isinstance(policy, ScriptTraining) and capture.model is resolved.model and not policy.no_graph and policy.step_index > 0
    step = {"source": "script" if script_loop else "memlens", "optimizer": None, "loss": None, "zeroGrad": None}
    if script_loop:
        if request.get("batchGiven") and resolved.captured and resolved.captured["batch"] not in (None, request["batch"]):
            raise BridgeError("run", "the script's own training loop runs at batch %d; --run measures it as written, so drop --batch %d (or give --batch %d)" % (resolved.captured["batch"], request["batch"], resolved.captured["batch"]))
        optimizer = capture.optimizer_of_model()
        model = resolved.model
        step["optimizer"] = type(optimizer).__name__ if optimizer is not None else None
        step["loss"] = "the script's own (%s)" % (capture.loss or {}).get("gradFn")
    else:
        optimizer = None
        recorder = Recorder(torch, choose_device(torch, request, resolved.model))
        model, args, kwargs = on_device(torch, resolved, recorder.device)
        if training:
            optimizer = capture.optimizer_of_model() if resolved.optimizer and not request.get("optimizerGiven") else settings_optimizer(torch, model, request["optimizer"])
            step["optimizer"] = type(optimizer).__name__ if optimizer is not None else None
            step["zeroGrad"] = "set_to_none" if optimizer is not None else None
            step["loss"] = synthetic_training(torch, recorder, model, args, kwargs, optimizer, steps)
        else:
            inference(torch, recorder, model, args, kwargs, steps)
    totals = final_totals(torch, model, optimizer)
    if recorder.device == "cuda":
        per_step, top, at_peak = measure_cuda(torch, recorder, steps)
    else:
        per_step, top, at_peak = measure_cpu(recorder, steps)
    measured_steps = len(per_step)
    return {
        "ok": True,
        "torchVersion": torch.__version__,
        "device": recorder.device,
        "label": resolved.label,
        "mode": request["mode"],
        "step": step,
        "inputs": resolved.specs(torch),
        "steps": [{k: v for k, v in s.items() if k != "at"} for s in per_step],
        "measuredSteps": measured_steps,
        "peak": {"bytes": top["peakBytes"], "step": top["step"], "phase": top["phase"], "reservedBytes": top.get("reservedBytes")},
        "baseline": recorder.baseline,
        "totals": totals,
        "atPeak": at_peak,
        "wallMs": 1000.0 * recorder.wall / max(1, measured_steps),
        "notes": resolved.notes,
    }


def final_totals(torch, model, optimizer):
    """What the run leaves: gradients, optimizer state (per-element moments, and the scalar step
    counters apart), parameters and buffers, each storage once."""
    state = state_tensors(torch, optimizer)
    return {
        "parameterBytes": unique_bytes(list(model.parameters())),
        "bufferBytes": unique_bytes(list(model.buffers())),
        "gradientBytes": unique_bytes([p.grad for p in model.parameters()]),
        "optimizerStateBytes": unique_bytes([t for t in state if t.numel() > 1]),
        "optimizerStepCounterBytes": unique_bytes([t for t in state if t.numel() <= 1]),
    }


def on_device(torch, resolved, device):
    if device == "cpu":
        return resolved.model, resolved.args, resolved.kwargs
    move = lambda v: v.to(device) if isinstance(v, torch.Tensor) else v
    return resolved.model.to(device), [move(a) for a in resolved.args], {k: move(v) for k, v in resolved.kwargs.items()}


def main():
    with open(sys.argv[1]) as f:
        request = json.load(f)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = run(request)
        code = 0
    except BridgeError as e:
        result = {"ok": False, "kind": e.kind, "error": str(e)}
        code = 3
    except BaseException as e:
        reason = exception_reason(e)
        if out_of_memory(e):
            result = {"ok": False, "kind": "memory", "error": "out of memory: the run went over its memory limit (%s)" % reason}
        else:
            result = {"ok": False, "kind": "internal", "error": reason}
            traceback.print_exc()
        code = 3
    with open(request["result"], "w") as f:
        json.dump(result, f)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
