"""Export a user's PyTorch model to ONNX for MemLens.

Run as `python export_onnx.py REQUEST.json`. The request names the user's file, the entry that
builds the model, the example inputs and where to write the ONNX file and the result JSON.
The result records what only the running program knows: each submodule's path, class and the
file and line of its forward, parameter and buffer sizes, the exporter used, and which module
calls ran inside activation checkpointing or saved-tensor offload (see RegionRecorder). Source lines
inside forwards are matched on the TypeScript side with the same tree-sitter parse the editor
uses, so one set of rules (nth call, op kind to statement) serves discovery and export alike.

Errors are reported as one line in the result JSON ({"ok": false, "error": ...}); the process
exits 3 then, 0 on success.
"""
import contextlib
import importlib.util
import inspect
import json
import os
import sys
import traceback


class BridgeError(Exception):
    """A user-facing failure: one line, no traceback."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def last_line(exc):
    text = str(exc).strip()
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    detail = lines[-1] if lines else ""
    name = type(exc).__name__
    return "%s: %s" % (name, detail) if detail else name


def user_frame(exc, user_file):
    """file:line of the innermost traceback frame inside the user's file, if any."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == user_file:
            where = "%s:%d" % (os.path.basename(frame.filename), frame.lineno)
    return where


def import_user_file(path):
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = "memlens_user_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise BridgeError("syntax", "%s:%s: syntax error: %s" % (os.path.basename(e.filename or path), e.lineno, e.msg))
    except BridgeError:
        raise
    except BaseException as e:  # a user's module may raise anything, SystemExit included
        where = user_frame(e, path)
        raise BridgeError("import", "importing %s failed%s: %s" % (os.path.basename(path), " at " + where if where else "", last_line(e)))
    return module


def build_model(torch, module, entry, path):
    try:
        if entry["kind"] == "expression":
            namespace = dict(vars(module))
            if entry.get("prelude"):
                exec(compile(entry["prelude"], path, "exec"), namespace)
            built = eval(compile(entry["expression"], path, "eval"), namespace)
            label = entry["expression"]
        else:
            target = module
            for part in entry["name"].split("."):
                if not hasattr(target, part):
                    raise BridgeError("entry", "%s has no %s to build the model from" % (os.path.basename(path), entry["name"]))
                target = getattr(target, part)
            if not callable(target):
                raise BridgeError("entry", "%s in %s is not a class or function" % (entry["name"], os.path.basename(path)))
            try:
                inspect.signature(target).bind()
            except TypeError as e:
                raise BridgeError("entry", "%s needs arguments (%s); name an entry that takes none with '# memlens: entry NAME'" % (entry["name"], e))
            except ValueError:
                pass  # builtins without a signature
            built = target()
            label = entry["name"]
    except BridgeError:
        raise
    except BaseException as e:
        where = user_frame(e, path)
        raise BridgeError("build", "building the model failed%s: %s" % (" at " + where if where else "", last_line(e)))
    example = None
    if isinstance(built, (tuple, list)) and built and isinstance(built[0], torch.nn.Module):
        example = built[1] if len(built) > 1 else None
        built = built[0]
    if not isinstance(built, torch.nn.Module):
        raise BridgeError("entry", "%s returned %s, not a torch.nn.Module" % (label, type(built).__name__))
    return built, example


TORCH_DTYPES = {
    "float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "float64": "float64",
    "int64": "int64", "int32": "int32", "int8": "int8", "uint8": "uint8", "bool": "bool",
}


def make_inputs(torch, specs):
    tensors = []
    for spec in specs:
        dtype = getattr(torch, TORCH_DTYPES[spec["dtype"]])
        if dtype.is_floating_point:
            tensors.append(torch.randn(*spec["shape"], dtype=dtype))
        else:
            # Zeros are a valid token id and class index for any vocabulary.
            tensors.append(torch.zeros(*spec["shape"], dtype=dtype))
    return tensors


def infer_inputs(torch, model, batch, seq):
    """Inputs from the first layer when nothing declares them."""
    nn = torch.nn
    for _, m in model.named_modules():
        if isinstance(m, nn.Embedding):
            return [{"name": "input_ids", "shape": [batch, seq], "dtype": "int64"}]
        if isinstance(m, nn.Conv2d):
            return [{"name": "x", "shape": [batch, m.in_channels, 224, 224], "dtype": "float32"}]
        if isinstance(m, nn.Conv1d):
            return [{"name": "x", "shape": [batch, m.in_channels, seq], "dtype": "float32"}]
        if isinstance(m, nn.Linear):
            return [{"name": "x", "shape": [batch, m.in_features], "dtype": "float32"}]
    raise BridgeError("inputs", "cannot infer the model's inputs; declare them with '# memlens: input NAME = (batch, ...) float32' above the entry")


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
        })
    return records


def tensor_records(named):
    out = []
    for name, t in named:
        out.append({"name": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "bytes": t.numel() * t.element_size()})
    return out


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
    with dedupe_by_storage_only(torch), tracing(recorder, model, record=True):
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
        raise BridgeError("no-torch", "PyTorch is not installed for %s (%s)" % (sys.executable, last_line(e)))
    sys.argv = [path]
    recorder = RegionRecorder(torch)
    with patched_regions(torch, recorder):
        return export_user_model(torch, request, path, recorder)


def export_user_model(torch, request, path, recorder):
    module = import_user_file(path)
    model, example = build_model(torch, module, request["entry"], path)
    if example is not None:
        args = list(example) if isinstance(example, (tuple, list)) else [example]
        specs = [{"name": "input_%d" % i, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")} for i, t in enumerate(args)]
    else:
        specs = request.get("inputs") or infer_inputs(torch, model, request["batch"], request["seq"])
        args = make_inputs(torch, specs)
    names = [s["name"] for s in specs]
    modules = describe_modules(torch, model)
    parameters = tensor_records(model.named_parameters())
    buffers = tensor_records(model.named_buffers())
    try:
        exporter = export(torch, model, args, names, request["onnx"], request["mode"], request.get("opset", 17), recorder)
    except BaseException as e:
        where = user_frame(e, path)
        raise BridgeError("export", "ONNX export failed%s: %s" % (" at " + where if where else "", last_line(e)))
    return {
        "ok": True,
        "torchVersion": torch.__version__,
        "exporter": exporter,
        "inputs": specs,
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
        result = {"ok": False, "kind": e.kind, "error": str(e)}
        code = 3
    except BaseException as e:
        result = {"ok": False, "kind": "internal", "error": last_line(e)}
        traceback.print_exc()
        code = 3
    with open(request["result"], "w") as f:
        json.dump(result, f)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: user threads or atexit hooks must not keep it alive


if __name__ == "__main__":
    main()
