"""Export a user's PyTorch model to ONNX for MemLens.

Run as `python export_onnx.py REQUEST.json`. The request names the user's file, how to find the
model (run the script and capture its first model call, or a named entry; see
memlens_user_code.py), declared inputs and where to write the ONNX file and the result JSON.
The result records what only the running program knows: each submodule's path, class and the
file and line of its forward, the parameters (with their tied names and requires_grad) and
buffers, the exporter used, the call that was captured with the optimizer and loss the script
built, and which module calls ran inside activation checkpointing or saved-tensor offload (see
RegionRecorder). Source lines
inside forwards are matched on the TypeScript side with the same tree-sitter parse the editor
uses, so one set of rules (nth call, op kind to statement) serves discovery and export alike.

Errors are reported as one line in the result JSON ({"ok": false, "error": ...}); the process
exits 3 then, 0 on success.
"""
import contextlib
import inspect
import json
import os
import re
import sys
import traceback

from memlens_user_code import (
    BridgeError, ExportPolicy, InferenceExportPolicy, exception_reason, failure, limit_memory, memory_refusal, out_of_memory,
    resolve_model, set_torch, source_frames,
)


def source_of(obj):
    try:
        return os.path.abspath(inspect.getsourcefile(obj))
    except (TypeError, OSError):
        return None


def line_of(obj):
    try:
        return inspect.getsourcelines(obj)[1]
    except (TypeError, OSError):
        return None


def describe_modules(torch, model):
    records = []
    for path, m in model.named_modules():
        cls = type(m)
        forward = getattr(cls, "forward", None)
        records.append({
            "path": path,
            "className": cls.__name__,
            "classModule": cls.__module__,
            "classFile": source_of(cls),
            "forwardQualname": getattr(forward, "__qualname__", None),
            "forwardFile": source_of(forward) if forward is not None else None,
            "forwardLine": line_of(forward) if forward is not None else None,
            # torch.nn's own layers and containers: their call site in the parent is the line to show.
            "builtin": cls.__module__.startswith("torch."),
            # nn.ReLU(inplace=True) and the like overwrite their input: no tensor of their own.
            "inplace": getattr(m, "inplace", None) is True,
        })
    return records


def named_tensors(model, table):
    """{id: (tensor, [names])} over every module path, so tied weights list all their names."""
    out = {}
    for prefix, m in model.named_modules(remove_duplicate=False):
        for key, t in getattr(m, table).items():
            if t is not None:
                out.setdefault(id(t), (t, m, key, []))[3].append(prefix + "." + key if prefix else key)
    return out.values()


def tensor_record(t, names):
    return {
        "name": names[0],
        "aliases": names[1:],
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "bytes": t.numel() * t.element_size(),
    }


def parameter_records(model):
    return [dict(tensor_record(t, names), requiresGrad=bool(t.requires_grad)) for t, _, _, names in named_tensors(model, "_parameters")]


def buffer_records(model):
    return [
        dict(tensor_record(t, names), persistent=key not in getattr(m, "_non_persistent_buffers_set", ()))
        for t, m, key, names in named_tensors(model, "_buffers")
    ]


def version_tuple(version):
    parts = []
    for piece in version.split("+")[0].split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


@contextlib.contextmanager
def dedupe_by_storage_only(torch):
    """TorchScript export merges initializers with equal values (in eval mode), which makes freshly
    initialised BatchNorm weights (all ones) one tensor and undercounts weight memory. Keep the merge
    of tensors that share storage (tied weights, counted once in memory too) and nothing else."""
    original = getattr(torch._C, "_jit_pass_onnx_deduplicate_initializers", None)
    if original is None:
        yield
        return
    torch._C._jit_pass_onnx_deduplicate_initializers = lambda graph, params, is_train: original(graph, params, True)
    try:
        yield
    finally:
        torch._C._jit_pass_onnx_deduplicate_initializers = original


@contextlib.contextmanager
def exporter_gaps(torch, opset):
    """Symbolics the TorchScript exporter lacks, for ops real models use in training mode.
    `bernoulli(x, p)` with a float p (torchvision's stochastic depth draws its mask with
    `empty(...).bernoulli_(p)`) has none in torch 1.x: it is written as ONNX's own recipe for
    Bernoulli, `Cast(RandomUniformLike(x) < p)`, with the mask's shape and dtype. The other
    forms keep torch's symbolic (and its error).

    `repeat_interleave(x, r, dim)` with an int r (grouped-query attention repeating its key/value
    heads): torch 1.13's opset-13 symbolic writes each unknown size as -1 into one reshape target
    (`[0, -1, 0, 32]` for a [b, 1, r, t, d] tensor), which both ONNX Runtime and shape inference
    read as [b, t, r, d]; the graph then fails at the attention MatMul. It is written as what
    repeat_interleave computes, from the input's runtime shape: Unsqueeze(x, dim+1), Expand with r
    at dim+1, Reshape with size[dim]*r at dim. Other forms keep torch's symbolic."""
    from torch.onnx import symbolic_helper, symbolic_opset9, symbolic_opset13

    def bernoulli(g, input, *rest):
        if len(rest) == 2:
            p = symbolic_helper._maybe_get_const(rest[0], "f")
            if isinstance(p, float):
                uniform = g.op("RandomUniformLike", input, high_f=1.0, low_f=0.0)
                return g.op("CastLike", g.op("Less", uniform, g.op("Constant", value_t=torch.tensor(p))), input)
        return symbolic_opset9.bernoulli(g, input, *rest)

    def repeat_interleave(g, input, repeats, dim=None, output_size=None):
        r = symbolic_helper._maybe_get_const(repeats, "i")
        d = None if symbolic_helper._is_none(dim) else symbolic_helper._maybe_get_const(dim, "i")
        rank = symbolic_helper._get_tensor_rank(input)
        if not (isinstance(r, int) and isinstance(d, int) and rank):
            return symbolic_opset13.repeat_interleave(g, input, repeats, dim, output_size)
        d = d % rank
        shape = g.op("Shape", input)
        part = lambda start, end: symbolic_helper._slice_helper(g, shape, axes=[0], starts=[start], ends=[end])
        head, size, tail = part(0, d), part(d, d + 1), part(d + 1, rank)
        count = g.op("Constant", value_t=torch.tensor([r], dtype=torch.int64))
        expanded = g.op("Expand", symbolic_helper._unsqueeze_helper(g, input, [d + 1]), g.op("Concat", head, size, count, tail, axis_i=0))
        return g.op("Reshape", expanded, g.op("Concat", head, g.op("Mul", size, count), tail, axis_i=0))

    torch.onnx.register_custom_op_symbolic("aten::bernoulli", bernoulli, opset)
    if opset >= 13:
        torch.onnx.register_custom_op_symbolic("aten::repeat_interleave", repeat_interleave, opset)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::bernoulli", opset)
        if opset >= 13:
            torch.onnx.unregister_custom_op_symbolic("aten::repeat_interleave", opset)


# Keyword arguments of torch.utils.checkpoint.checkpoint itself (torch 1.13 to 2.x); the rest go
# to the checkpointed function, as the non-reentrant variant passes them.
CHECKPOINT_OPTIONS = ("use_reentrant", "preserve_rng_state", "context_fn", "determinism_check", "debug")


class RegionRecorder:
    """Which module calls run inside checkpoint(...) or a saved-tensors-hooks context.

    The exported graph is the same with or without them (tracing only runs the forward), so the
    bridge records them itself. checkpoint and checkpoint_sequential are replaced by wrappers, and
    saved_tensors_hooks.__enter__/__exit__ (save_on_cpu is a subclass) patched, from before the
    user's file is imported. While the model is traced for export, a checkpoint wrapper just calls
    the function (no recomputation games while tracing) and a hooks context installs no hooks;
    while recording they also open a region, and a forward pre-hook on every module notes the
    regions active at each call. Otherwise torch's own functions run. Region ids are numbered per
    forward of the root module, so a second run of the same model gives the same ids.
    """

    def __init__(self, torch):
        self.torch = torch
        # None: torch's own functions; "plain": calls without regions; "record": calls in regions.
        self.mode = None
        self.stack = []  # (kind, id): kind "checkpoint", "offload" (save_on_cpu) or "hooks" (other saved-tensor hooks)
        self.counters = {}
        self.calls = {}  # module path -> [{"checkpoint": id | None, "offload": id | None}, ...] in call order
        self.originals = {}  # torch.utils.checkpoint functions replaced by patched_regions

    def open(self, kind):
        n = self.counters.get(kind, 0)
        self.counters[kind] = n + 1
        region = "%s:%d" % (kind, n)
        self.stack.append((kind, region))
        return region

    def close(self, region):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][1] == region:
                del self.stack[i]
                return

    def active(self):
        checkpoint = next((r for k, r in reversed(self.stack) if k == "checkpoint"), None)
        # Only the innermost saved-tensor hooks apply (torch's rule): an offload inside other hooks is no offload.
        hooks = next(((k, r) for k, r in reversed(self.stack) if k != "checkpoint"), None)
        offload = hooks[1] if hooks is not None and hooks[0] == "offload" else None
        return {"checkpoint": checkpoint, "offload": offload}

    def enter_module(self, path):
        if self.mode != "record":
            return
        if path == "":
            self.counters = {}
            self.calls = {}
        self.calls.setdefault(path, []).append(self.active())

    def records(self):
        return [
            {"path": path, "calls": calls}
            for path, calls in self.calls.items()
            if any(c["checkpoint"] is not None or c["offload"] is not None for c in calls)
        ]

    # ---- wrappers (outside the export they hand over to torch's own functions)

    def checkpoint(self, function, *args, **kwargs):
        if self.mode is None:
            return self.originals["checkpoint"](function, *args, **kwargs)
        for key in CHECKPOINT_OPTIONS:
            kwargs.pop(key, None)
        if self.mode == "plain":
            return function(*args, **kwargs)
        region = self.open("checkpoint")
        try:
            return function(*args, **kwargs)
        finally:
            self.close(region)

    def checkpoint_sequential(self, functions, segments, input, *args, **kwargs):
        """torch's own segmentation: every segment but the last is checkpointed."""
        if self.mode is None:
            return self.originals["checkpoint_sequential"](functions, segments, input, *args, **kwargs)
        if isinstance(functions, self.torch.nn.Sequential):
            functions = list(functions.children())

        def run(start, end):
            def forward(x):
                for j in range(start, end + 1):
                    x = functions[j](x)
                return x
            return forward

        size = len(functions) // segments
        end = -1
        for start in range(0, size * (segments - 1), size):
            end = start + size - 1
            input = self.checkpoint(run(start, end), input)
        return run(end + 1, len(functions) - 1)(input)


@contextlib.contextmanager
def patched_regions(torch, recorder):
    """Installs the recorder's wrappers from before the user's file is imported (so that
    `from torch.utils.checkpoint import checkpoint` binds the wrapper) until the export is done."""
    import torch.utils.checkpoint as ckpt
    import torch.autograd.graph as graph
    hooks_class = getattr(graph, "saved_tensors_hooks", None)
    offload_class = getattr(graph, "save_on_cpu", None)
    saved = [(ckpt, "checkpoint", ckpt.checkpoint), (ckpt, "checkpoint_sequential", ckpt.checkpoint_sequential)]
    recorder.originals = {"checkpoint": ckpt.checkpoint, "checkpoint_sequential": ckpt.checkpoint_sequential}
    ckpt.checkpoint = recorder.checkpoint
    ckpt.checkpoint_sequential = recorder.checkpoint_sequential
    if hooks_class is not None:
        enter, leave = hooks_class.__enter__, hooks_class.__exit__
        saved += [(hooks_class, "__enter__", enter), (hooks_class, "__exit__", leave)]

        def hooks_enter(self):
            if recorder.mode is None:
                return enter(self)
            if recorder.mode == "plain":
                return None
            kind = "offload" if offload_class is not None and isinstance(self, offload_class) else "hooks"
            self._memlens_region = recorder.open(kind)
            return None

        def hooks_exit(self, *exc):
            region = self.__dict__.pop("_memlens_region", None)
            if region is None:
                return leave(self, *exc)
            recorder.close(region)
            return None

        hooks_class.__enter__ = hooks_enter
        hooks_class.__exit__ = hooks_exit
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextlib.contextmanager
def tracing(recorder, model, record):
    """Wrappers in plain-call mode, and with record also a forward pre-hook on every module."""
    handles = []
    if record:
        for path, m in model.named_modules():
            try:
                handles.append(m.register_forward_pre_hook(lambda module, inputs, path=path: recorder.enter_module(path)))
            except RuntimeError:
                pass  # scripted submodules take no hooks: their calls go unrecorded
    recorder.mode = "record" if record else "plain"
    try:
        yield
    finally:
        recorder.mode = None
        for h in handles:
            h.remove()


def record_eagerly(torch, recorder, model, args):
    """Regions for the dynamo exporter, from one forward outside it: torch.export does not trace
    module hooks reliably (a pre-hook on the root fails strict export). Fake tensors make the
    forward cost no compute; a real forward is the fallback. Failures leave no regions: the export
    that follows reports a broken model itself."""
    attempts = []
    fake_mode = getattr(getattr(getattr(torch, "_subclasses", None), "fake_tensor", None), "FakeTensorMode", None)
    if fake_mode is not None:
        attempts.append(lambda: fake_mode(allow_non_fake_inputs=True))
    attempts.append(contextlib.nullcontext)
    # The forward may update buffers (BatchNorm running statistics) and draw random numbers: the
    # export that follows sees the model as it was.
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng = torch.get_rng_state()
    try:
        for context in attempts:
            try:
                with torch.enable_grad(), context(), tracing(recorder, model, record=True):
                    model(*args)
                return
            except Exception:
                recorder.calls = {}
    finally:
        with torch.no_grad():
            for b, value in buffers:
                b.copy_(value)
        torch.set_rng_state(rng)


def export(torch, model, args, names, out_path, mode, opset, recorder):
    training = mode == "train"
    model.train(training)
    if version_tuple(torch.__version__) >= (2, 5):
        record_eagerly(torch, recorder, model, args)
        with tracing(recorder, model, record=False):
            program = torch.onnx.export(model, tuple(args), dynamo=True, input_names=names, opset_version=max(opset, 18))
        program.save(out_path)
        return "dynamo"
    mode_flag = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.PRESERVE
    # The TorchScript tracer runs the forward once in Python, module hooks included: record there.
    with dedupe_by_storage_only(torch), exporter_gaps(torch, opset), tracing(recorder, model, record=True):
        torch.onnx.export(
            model, tuple(args), out_path,
            input_names=names,
            opset_version=opset,
            do_constant_folding=False,
            # PRESERVE in eval mode skips the eval peephole that folds BatchNorm into Conv.
            training=mode_flag,
            export_modules_as_functions=False,
        )
    return "torchscript"


def run(request):
    path = os.path.abspath(request["file"])
    try:
        import torch
    except ImportError as e:
        raise BridgeError("no-torch", "PyTorch is not installed for %s (%s)" % (sys.executable, exception_reason(e)))
    set_torch(torch)
    limit_memory(request.get("memoryLimitBytes"))
    # A model too large for the limit stops at its first tensor that does not fit, in one line.
    request["refuseOutOfMemory"] = "export"
    sys.argv = [path]
    recorder = RegionRecorder(torch)
    with patched_regions(torch, recorder):
        return export_user_model(torch, request, path, recorder)


@contextlib.contextmanager
def tensor_call(torch, model, args, kwargs):
    """The call as the exporter takes it: the tensors are the graph's inputs; any other argument
    (a flag, None) is fixed at the value the script passed, through the instance's forward."""
    positions = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
    keywords = [k for k, v in kwargs.items() if isinstance(v, torch.Tensor)]
    if len(positions) == len(args) and not kwargs:
        yield list(args)
        return
    forward = model.forward

    def bound(*tensors):
        full, named = list(args), dict(kwargs)
        for i, t in zip(positions, tensors):
            full[i] = t
        named.update(zip(keywords, tensors[len(positions):]))
        return forward(*full, **named)

    model.forward = bound
    try:
        yield [args[i] for i in positions] + [kwargs[k] for k in keywords]
    finally:
        del model.forward


def unsupported_op_frames(torch, model, resolved, exc):
    """Where an operator the exporter has no symbolic for was called: its message names the op
    (`Exporting the operator 'aten::fft_rfft' ... is not supported`) but not the line, so the
    model is traced once more and the op's node gives its source stack."""
    match = re.search(r"operator '?(aten::\w+)", exception_reason(exc))
    if not match or not hasattr(torch.jit, "_get_trace_graph"):
        return []
    try:
        with tensor_call(torch, model, resolved.args, resolved.kwargs) as args:
            graph, _ = torch.jit._get_trace_graph(model, tuple(args))
    except BaseException:
        return []
    for node in graph.nodes():
        if node.kind() == match.group(1):
            return source_frames(node.sourceRange())
    return []


def export_user_model(torch, request, path, recorder):
    policy = InferenceExportPolicy() if request["mode"] == "infer" else ExportPolicy()
    resolved, capture = resolve_model(torch, request, path, policy)
    capture.uninstall()
    model = resolved.model
    specs = resolved.specs(torch)
    names = [s["name"] for s in specs]
    try:
        with tensor_call(torch, model, resolved.args, resolved.kwargs) as args:
            exporter = export(torch, model, args, names, request["onnx"], request["mode"], request.get("opset", 17), recorder)
    except BaseException as e:
        if out_of_memory(e):
            raise memory_refusal("export", e, path)
        raise failure("export", "ONNX export failed", e, path, unsupported_op_frames(torch, model, resolved, e))
    # After the export: a forward that makes state (a buffer on its first call) has run by then,
    # whether or not the script's own call ran it (InferenceExportPolicy).
    modules = describe_modules(torch, model)
    parameters = parameter_records(model)
    buffers = buffer_records(model)
    return {
        "ok": True,
        "torchVersion": torch.__version__,
        "exporter": exporter,
        "label": resolved.label,
        "inputs": specs,
        "captured": resolved.captured,
        "optimizer": resolved.optimizer,
        "loss": resolved.loss,
        "notes": resolved.notes,
        "modules": modules,
        "parameters": parameters,
        "buffers": buffers,
        "regions": recorder.records(),
        "python": sys.executable,
    }


def main():
    with open(sys.argv[1]) as f:
        request = json.load(f)
    try:
        # The user's prints and the exporter's warnings stay out of the result channel.
        with contextlib.redirect_stdout(sys.stderr):
            result = run(request)
        code = 0
    except BridgeError as e:
        result = {"ok": False, "kind": e.kind, "error": str(e), "at": e.at}
        code = 3
    except BaseException as e:
        result = {"ok": False, "kind": "internal", "error": exception_reason(e)}
        traceback.print_exc()
        code = 3
    with open(request["result"], "w") as f:
        json.dump(result, f)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: user threads or atexit hooks must not keep it alive


if __name__ == "__main__":
    main()
