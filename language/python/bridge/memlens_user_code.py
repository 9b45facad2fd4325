"""Running a user's PyTorch file the way a profiler would, for the export and the measured run.

The user's file runs (as `__main__` for a script, or imported when an entry is named) with a hook
on `nn.Module.__call__` that captures the FIRST top-level call of a module that has parameters,
with its real inputs, and hooks that see the loss's `.backward()` and the optimizers the script
builds. A policy object decides what happens at each event; the export's policy stops the script
at the first backward (no training loop runs to completion), the measured run's lets N steps run.
The script is stopped by raising StopScript, a BaseException, so `except Exception` in user code
does not swallow it.

Errors are BridgeError: one line with the reason and the user's line that triggered it.
"""
import inspect
import os
import re
import sys
import threading
import traceback
import types


class BridgeError(Exception):
    """A user-facing failure: one line, no traceback."""

    def __init__(self, kind, message, at=None):
        super().__init__(message)
        self.kind = kind
        # (absolute path, line) of the user's line the message names, for the editor's Problems.
        self.at = at


class StopScript(BaseException):
    """Raised from a hook to end the user's script once what is needed has been seen."""


TORCH_DIR = None  # torch's package directory, set by set_torch
STDLIB_DIR = os.path.dirname(os.__file__)
BRIDGE_DIR = os.path.dirname(os.path.abspath(__file__))


def set_torch(torch):
    global TORCH_DIR
    TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))


def is_model_code(filename):
    """Frames of model code: the user's files and libraries that define models (torchvision), not
    torch itself, the standard library or this bridge."""
    if not filename or filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    for d in (TORCH_DIR, STDLIB_DIR, BRIDGE_DIR):
        if d and (path == d or path.startswith(d + os.sep)):
            return False
    return True


def short_path(path):
    """`x.py` for the user's folder, `torchvision/ops/misc.py` for installed packages."""
    parts = os.path.abspath(path).split(os.sep)
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1:])
    return os.path.basename(path)


# ---- the reason of an exception, and where it happened

BOILERPLATE = ("Please feel free to request support", "Please report a bug", "[Caused by the value")


def reason_line(text):
    """The first meaningful line of an exception message, without the exporter's boilerplate."""
    for line in str(text).splitlines():
        line = line.strip()
        for marker in BOILERPLATE:
            if marker in line:
                line = line[:line.index(marker)].strip()
        if len(line.strip("()[]{}.,:; '\"")) >= 3:
            return line.rstrip(" ,;")
    return ""


def exception_chain(exc):
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ if exc.__cause__ is not None else (None if exc.__suppress_context__ else exc.__context__)
    return chain


def exception_reason(exc):
    """`Type: reason` of the deepest exception in the chain that says something."""
    for e in reversed(exception_chain(exc)):
        line = reason_line(e)
        if line:
            return "%s: %s" % (type(e).__name__, line)
    return type(exc).__name__


def source_frames(text):
    """(file, line) of a TorchScript source stack ("file.py(40): fn" per line), innermost first."""
    frames = []
    for line in str(text).splitlines():
        line = line.strip().lstrip("(").strip()
        if line.startswith("node defined in"):
            line = line[len("node defined in"):].strip()
        head, sep, _ = line.partition("): ")
        if not sep or "(" not in head:
            continue
        file, _, number = head.rpartition("(")
        if number.isdigit():
            frames.append((file.strip(), int(number)))
    return frames


def traced_frames(exc):
    """The source stack of the TorchScript node the exporter names in its message."""
    return [f for e in exception_chain(exc) if "defined in" in str(e) for f in source_frames(e)]


def user_frame(exc, user_file, extra_frames=()):
    """(file, line) of the user's line that led to the exception: the innermost frame in the
    user's file, else the innermost frame of model code (a library model's own file)."""
    frames = [(f.filename, f.lineno) for f in reversed(traceback.extract_tb(exc.__traceback__))]
    frames = list(extra_frames) + traced_frames(exc) + frames
    for file, line in frames:
        if os.path.abspath(file) == user_file:
            return os.path.abspath(file), line
    for file, line in frames:
        if is_model_code(file):
            return os.path.abspath(file), line
    return None


def where(exc, user_file, extra_frames=()):
    """`file:line` of user_frame, as the message shows it."""
    frame = user_frame(exc, user_file, extra_frames)
    if frame is None:
        return None
    file, line = frame
    return "%s:%d" % (os.path.basename(file) if file == user_file else short_path(file), line)


def failure(kind, what, exc, user_file, extra_frames=()):
    at = where(exc, user_file, extra_frames)
    frame = user_frame(exc, user_file, extra_frames)
    located = {"file": frame[0], "line": frame[1]} if frame and frame[1] and frame[1] > 0 else None
    return BridgeError(kind, "%s%s: %s" % (what, " at " + at if at else "", exception_reason(exc)), located)


# ---- the memory limit inside the interpreter

_memory_limit = None


def limit_memory(limit):
    """Address-space limit above what the interpreter and torch already map: an allocation past it
    fails inside torch ("can't allocate memory") before any of its pages is touched, so a model
    too large for the limit is refused at its first tensor that does not fit, not after it has
    filled the machine's memory up to the supervisor's limit."""
    global _memory_limit
    if not limit:
        return
    import resource
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = mapped + int(limit)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _memory_limit = int(limit)


def out_of_memory(e):
    reason = exception_reason(e)
    return isinstance(e, MemoryError) or "can't allocate memory" in reason or "not enough memory" in reason or "out of memory" in reason


def size_text(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d B" % n


def memory_refusal(what, exc, user_file):
    """One line for an allocation the limit refused: its size (torch names it), the user's line."""
    at = where(exc, user_file)
    asked = re.search(r"tried to allocate (\d+) bytes", exception_reason(exc))
    size = "an allocation of %s" % size_text(int(asked.group(1))) if asked else "an allocation"
    limit = " of %s" % size_text(_memory_limit) if _memory_limit else ""
    return BridgeError("memory", "%s ran out of memory%s: %s would pass the memory limit%s (refused before it was made)" % (what, " at " + at if at else "", size, limit))


# ---- capture of the first top-level module call, the loss's backward and the optimizers

def has_parameters(module):
    return next(iter(module.parameters()), None) is not None


class ExportPolicy:
    """What the export needs: the first call's inputs; the backward and optimizer for the record."""

    def first_call(self, capture, args, kwargs):
        """Returns a function that makes the inputs the call runs with (see ScriptCapture.on_call)."""
        # Copies: the forward may change its inputs in place; the export sees them as they came.
        capture.args, capture.kwargs = clone_inputs(capture.torch, list(args)), clone_inputs(capture.torch, dict(kwargs))
        return lambda: (list(capture.args), dict(capture.kwargs))

    def call_returned(self, capture, output):
        # No graph to differentiate (inference): nothing more will come that the export needs.
        if not capture.output_has_graph(output):
            raise StopScript()

    def second_call(self, capture):
        raise StopScript()

    def backward(self, capture, run):
        raise StopScript()

    def step(self, capture, run):
        raise StopScript()

    def zero_grad(self, capture, run):
        return run()


class InferenceExportPolicy(ExportPolicy):
    """The export of an inference profile: the script stops at the model's first call, before its
    forward runs. What the script does after that call (its loss, a later optimizer) changes no
    inference figure, and the exporter runs the forward itself; the script's own run of it was
    most of an export's time. A model with lazy parameters or buffers (nn.LazyLinear) is made by
    its first forward, so that call runs as under ExportPolicy."""

    def first_call(self, capture, args, kwargs):
        prepare = super().first_call(capture, args, kwargs)
        if has_lazy_tensors(capture.torch, capture.model):
            return prepare
        raise StopScript()


def has_lazy_tensors(torch, module):
    is_lazy = getattr(getattr(torch.nn, "parameter", None), "is_lazy", None)
    if is_lazy is None:
        return False
    return any(is_lazy(t) for t in list(module.parameters()) + list(module.buffers()))


class ScriptCapture:
    """Hooks installed from before the user's code runs until uninstall()."""

    def __init__(self, torch, policy):
        self.torch = torch
        self.policy = policy
        self.pid = os.getpid()
        self.local = threading.local()
        self.model = None
        self.args = None
        self.kwargs = None
        self.call_site = None  # (file, line) of the first call
        self.calls = 0
        self.backward_calls = 0
        self.loss = None  # {"shape": [...], "gradFn": name} of the first backward's tensor
        self.optimizers = []
        self.steps = 0
        self.active = True
        self.saved = []

    # -- install / uninstall

    def install(self):
        torch = self.torch
        module_class = torch.nn.Module
        optimizer_class = torch.optim.Optimizer
        call, init = module_class.__call__, optimizer_class.__init__
        tensor_backward, autograd_backward = torch.Tensor.backward, torch.autograd.backward
        self.saved = [(module_class, "__call__", call), (optimizer_class, "__init__", init),
                      (torch.Tensor, "backward", tensor_backward), (torch.autograd, "backward", autograd_backward)]
        capture = self

        # The first parameter must be named `self`: torch 1.13's profiler (with_stack) reads the
        # module from the `self` local of frames running nn.Module.__call__, and crashes without it.
        def module_call(self, *args, **kwargs):
            return capture.on_call(call, self, args, kwargs)

        def optimizer_init(optimizer, *args, **kwargs):
            init(optimizer, *args, **kwargs)
            capture.on_optimizer(optimizer)

        def backward_of_tensor(tensor, *args, **kwargs):
            return capture.on_backward(tensor, lambda: tensor_backward(tensor, *args, **kwargs))

        def backward_of_tensors(tensors, *args, **kwargs):
            first = tensors[0] if isinstance(tensors, (tuple, list)) and tensors else tensors
            return capture.on_backward(first, lambda: autograd_backward(tensors, *args, **kwargs))

        module_class.__call__ = module_call
        optimizer_class.__init__ = optimizer_init
        torch.Tensor.backward = backward_of_tensor
        torch.autograd.backward = backward_of_tensors

    def uninstall(self):
        self.active = False
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)
        self.saved = []
        for optimizer in self.optimizers:
            optimizer.__dict__.pop("step", None)
            optimizer.__dict__.pop("zero_grad", None)

    def watching(self):
        return self.active and os.getpid() == self.pid  # not in forked DataLoader workers

    # -- events

    def on_call(self, call, module, args, kwargs):
        depth = getattr(self.local, "depth", 0)
        if not self.watching() or depth > 0:
            return self.nested(call, module, args, kwargs, depth)
        first = self.model is None and has_parameters(module)
        if first:
            self.model = module
            self.call_site = caller_site()
            prepare = self.policy.first_call(self, args, kwargs)
            del args, kwargs
            output = self.run_prepared(call, module, prepare, depth)
        else:
            if module is self.model:
                self.policy.second_call(self)
            output = self.nested(call, module, args, kwargs, depth)
        if module is self.model:
            self.calls += 1
            self.policy.call_returned(self, output)
        return output

    def run_prepared(self, call, module, prepare, depth):
        """The first call with the inputs the policy makes. They are made and held in this frame
        only: a profiler started by the policy keeps the frames that were on the stack when it
        started (torch 1.13's Python tracer), and whatever their locals hold stays alive."""
        args, kwargs = prepare()
        return self.nested(call, module, args, kwargs, depth)

    def nested(self, call, module, args, kwargs, depth):
        self.local.depth = depth + 1
        try:
            return call(module, *args, **kwargs)
        finally:
            self.local.depth = depth

    def on_optimizer(self, optimizer):
        if not self.watching():
            return
        self.optimizers.append(optimizer)
        step, zero_grad = optimizer.step, optimizer.zero_grad  # bound; an LR scheduler may wrap step later
        capture = self

        def counted_step(*args, **kwargs):
            if not capture.watching() or capture.model is None:
                return step(*args, **kwargs)
            return capture.policy.step(capture, lambda: step(*args, **kwargs))

        def seen_zero_grad(*args, **kwargs):
            if not capture.watching() or capture.model is None:
                return zero_grad(*args, **kwargs)
            return capture.policy.zero_grad(capture, lambda: zero_grad(*args, **kwargs))

        optimizer.step = counted_step
        optimizer.zero_grad = seen_zero_grad

    def on_backward(self, tensor, run):
        if not self.watching() or self.model is None:
            return run()
        self.backward_calls += 1
        if self.loss is None and isinstance(tensor, self.torch.Tensor):
            self.loss = {"shape": list(tensor.shape), "gradFn": type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else None}
        return self.policy.backward(self, run)

    # -- what was seen

    def output_has_graph(self, output):
        return any(t.grad_fn is not None for t in tensors_in(self.torch, output))

    def optimizer_of_model(self):
        """The optimizer built over the captured model's parameters, if the script built one."""
        if self.model is None:
            return None
        mine = {id(p) for p in self.model.parameters()}
        for optimizer in self.optimizers:
            if any(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
                return optimizer
        return None


def tensors_in(torch, value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(torch, v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(torch, v)]
    return []


def caller_site():
    """The innermost frame of model code below the module call: where the model was called."""
    frame = sys._getframe(2)
    while frame is not None:
        if is_model_code(frame.f_code.co_filename):
            return (os.path.abspath(frame.f_code.co_filename), frame.f_lineno)
        frame = frame.f_back
    return None


def describe_optimizer(optimizer):
    """The optimizer as MemLens names it (adamw, adam, sgd, sgd-momentum), with its settings."""
    if optimizer is None:
        return None
    name = type(optimizer).__name__
    defaults = optimizer.defaults
    kind = {"AdamW": "adamw", "Adam": "adam"}.get(name)
    if name == "SGD":
        kind = "sgd-momentum" if defaults.get("momentum", 0) else "sgd"
    implementation = "fused" if defaults.get("fused") else "foreach" if defaults.get("foreach") else "single-tensor"
    return {"class": name, "kind": kind, "implementation": implementation}


# ---- running the user's file

def run_user_file(path, as_main, capture):
    """Runs the file (as `__main__`, or imported under its own name) with the capture installed.
    Returns (module, stopped, error): stopped when a hook ended it, error when it raised."""
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        # Bytes: compile honours the file's coding line (PEP 263), as Python itself does.
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec")
    except SyntaxError as e:
        raise BridgeError("syntax", "%s:%s: syntax error: %s" % (os.path.basename(e.filename or path), e.lineno, e.msg))
    name = "__main__" if as_main else "memlens_user_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = __builtins__
    # dataclasses, pickling and inspect.getsource look the module up by name (for a script,
    # `__main__` is the user's file from here on, as under `python file.py`).
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
        return module, False, None
    except StopScript:
        return module, True, None
    except BridgeError:
        raise
    except BaseException as e:  # a user's script may raise anything, SystemExit included
        if isinstance(e, SystemExit) and e.code in (None, 0):
            return module, False, None
        return module, False, e


def lookup(module, name, path):
    target = module
    for part in name.split("."):
        if not hasattr(target, part):
            raise BridgeError("entry", "%s has no %s to build the model from" % (os.path.basename(path), name))
        target = getattr(target, part)
    return target


def call_entry(torch, target, name, path, capture):
    """Calls a named class or function with the capture installed: a function that runs the model
    (`main`, `train`) is stopped at its first call; one that builds it returns it."""
    if not callable(target):
        raise BridgeError("entry", "%s in %s is not a class, function or nn.Module" % (name, os.path.basename(path)))
    try:
        inspect.signature(target).bind()
    except TypeError as e:
        raise BridgeError("entry", "%s needs arguments (%s); name an entry that takes none with '# memlens: entry NAME'" % (name, e))
    except ValueError:
        pass  # builtins without a signature
    try:
        return target()
    except StopScript:
        return None
    except BridgeError:
        raise
    except BaseException as e:
        raise failure("build", "building the model failed", e, path)


def as_model(torch, built, label):
    """(module, example inputs or None) from what an entry returned."""
    example = None
    if isinstance(built, (tuple, list)) and built and isinstance(built[0], torch.nn.Module):
        example = built[1] if len(built) > 1 else None
        built = built[0]
    if not isinstance(built, torch.nn.Module):
        raise BridgeError("entry", "%s returned %s, not a torch.nn.Module" % (label, type(built).__name__))
    if example is not None and not isinstance(example, (tuple, list)):
        example = [example]
    return built, (list(example) if example is not None else None)


# ---- inputs

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


def spec_of(name, t):
    return {"name": name, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}


def captured_batch(torch, args):
    first = next((a for a in args if isinstance(a, torch.Tensor) and a.dim() > 0), None)
    return int(first.shape[0]) if first is not None else None


def with_batch(torch, args, old, new):
    """The captured tensors with `new` rows where they had the captured batch `old` as their
    leading dim: rows repeat cyclically, so token ids and labels stay valid values."""
    if old is None or old == new:
        return list(args)
    out = []
    for a in args:
        if isinstance(a, torch.Tensor) and a.dim() > 0 and a.shape[0] == old:
            index = torch.arange(new) % old
            out.append(a.index_select(0, index).contiguous())
        else:
            out.append(a)
    return out


def token_seq(torch, args):
    """Length of the captured token ids: dim 1 of the first 2-D-or-more integer tensor."""
    first = next((a for a in args if isinstance(a, torch.Tensor) and a.dim() >= 2 and not a.dtype.is_floating_point), None)
    return int(first.shape[1]) if first is not None else None


def with_seq(torch, args, old, new):
    """Integer tensors (token ids, targets) with `new` positions where dim 1 was the captured
    length `old`: cut, or repeated cyclically (the ids stay in the vocabulary)."""
    if old is None or old == new:
        return list(args)
    out = []
    for a in args:
        if isinstance(a, torch.Tensor) and a.dim() >= 2 and not a.dtype.is_floating_point and a.shape[1] == old:
            out.append(a.index_select(1, torch.arange(new) % old).contiguous())
        else:
            out.append(a)
    return out


def given_sizes(torch, request, args, kwargs):
    """The captured call with the batch size and sequence length the user set (the script's
    own where the user set none)."""
    values = list(args) + list(kwargs.values())
    batch, seq = captured_batch(torch, values), token_seq(torch, values)
    if request.get("batchGiven"):
        values = with_batch(torch, values, batch, request["batch"])
    if request.get("seqGiven"):
        values = with_seq(torch, values, seq, request["seq"])
    return values[:len(args)], dict(zip(kwargs, values[len(args):]))


def clone_inputs(torch, value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(clone_inputs(torch, v) for v in value)
    if isinstance(value, list):
        return [clone_inputs(torch, v) for v in value]
    if isinstance(value, dict):
        return {k: clone_inputs(torch, v) for k, v in value.items()}
    return value


def forward_names(model, count):
    """Names of the forward's first `count` positional parameters, for the graph's inputs."""
    try:
        params = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params[:count]]
    return names + ["input_%d" % i for i in range(len(names), count)]


# ---- from a request to a model and its inputs

class Resolved:
    """The model to export or measure, the call to make, and how it was found."""

    def __init__(self, model, args, kwargs, label):
        self.model = model
        self.args = args  # positional values of the call (tensors and constants)
        self.kwargs = kwargs
        self.label = label
        self.captured = None  # {"className", "file", "line", "batch"} when the script's call was captured
        self.optimizer = None  # describe_optimizer() of the optimizer the script built
        self.loss = None  # what the script called .backward() on
        self.notes = []  # one line each, shown as warnings
        self.names = None  # input names when the inputs were declared or inferred
        self.error = None  # what the script raised after its model was captured

    def specs(self, torch):
        names = self.names or forward_names(self.model, len(self.args))
        out = [spec_of(n, a) for n, a in zip(names, self.args) if isinstance(a, torch.Tensor)]
        out += [spec_of(k, v) for k, v in self.kwargs.items() if isinstance(v, torch.Tensor)]
        return out


def resolve_model(torch, request, path, policy):
    """Runs the user's file with the capture installed and returns (Resolved, capture). The
    capture stays installed (the measured run's policy keeps counting steps); uninstall it."""
    entry = request["entry"]
    capture = ScriptCapture(torch, policy)
    capture.install()
    module, stopped, error = run_user_file(path, entry["kind"] == "script", capture)
    if error is not None and out_of_memory(error) and request.get("refuseOutOfMemory"):
        raise memory_refusal(request["refuseOutOfMemory"], error, path)
    if entry["kind"] == "script":
        resolved = from_script(torch, request, path, module, capture, error)
    else:
        if error is not None and capture.model is None:
            raise failure("import", "importing %s failed" % os.path.basename(path), error, path)
        resolved = from_entry(torch, request, path, module, capture, entry)
    if capture.model is resolved.model and capture.args is not None:
        resolved.captured = {
            "className": type(resolved.model).__name__,
            "file": capture.call_site[0] if capture.call_site else None,
            "line": capture.call_site[1] if capture.call_site else None,
            "batch": captured_batch(torch, resolved.args),
        }
        resolved.args, resolved.kwargs = given_sizes(torch, request, resolved.args, resolved.kwargs)
    resolved.optimizer = describe_optimizer(capture.optimizer_of_model())
    resolved.loss = capture.loss
    return resolved, capture


def from_script(torch, request, path, module, capture, error):
    label = os.path.basename(path)
    if capture.model is not None:
        resolved = Resolved(capture.model, list(capture.args), dict(capture.kwargs), request.get("label") or type(capture.model).__name__)
        if error is not None:
            resolved.error = error
            resolved.notes.append("%s raised after the model's first call: %s" % (label, exception_reason(error)))
        return resolved
    fallback = request.get("fallback")
    if fallback is None:
        instance = module_level_model(torch, module)
        if instance is not None:
            fallback = {"kind": "name", "name": instance}
        elif error is not None:
            raise failure("script", "the script failed before it called a model", error, path)
        else:
            raise BridgeError("entry", "the script ran to its end without calling an nn.Module that has parameters, and defines none at module level; name the model with '# memlens: entry NAME'")
    resolved = from_entry(torch, request, path, module, capture, fallback)
    if error is not None:
        at = where(error, path)
        resolved.notes.append("%s failed%s before it called a model (%s); profiled %s instead" % (label, " at " + at if at else "", exception_reason(error), resolved.label))
    return resolved


def module_level_model(torch, module):
    """The name of the module-level nn.Module instance with the most parameters, if any."""
    best, most = None, 0
    for name, value in vars(module).items():
        if isinstance(value, torch.nn.Module) and not name.startswith("_"):
            count = sum(p.numel() for p in value.parameters())
            if count > most:
                best, most = name, count
    return best


def from_entry(torch, request, path, module, capture, entry):
    if entry["kind"] == "expression":
        try:
            namespace = dict(vars(module))
            if entry.get("prelude"):
                exec(compile(entry["prelude"], path, "exec"), namespace)
            built = eval(compile(entry["expression"], path, "eval"), namespace)
        except (BridgeError, StopScript):
            raise
        except BaseException as e:
            raise failure("build", "building the model failed", e, path)
        label = entry["expression"]
    else:
        label = entry["name"]
        target = lookup(module, label, path)
        if isinstance(target, torch.nn.Module):
            built = target
        else:
            before = capture.model
            capture.model = None  # a function that runs the model is captured at its own first call
            built = call_entry(torch, target, label, path, capture)
            if built is None and capture.model is not None:
                return Resolved(capture.model, list(capture.args), dict(capture.kwargs), label)
            if capture.model is None:
                capture.model = before
    model, example = as_model(torch, built, label)
    if capture.model is model and capture.args is not None:
        return Resolved(model, list(capture.args), dict(capture.kwargs), label)
    if example is not None:
        return Resolved(model, example, {}, label)
    specs = request.get("inputs") or infer_inputs(torch, model, request["batch"], request["seq"])
    resolved = Resolved(model, make_inputs(torch, specs), {}, label)
    resolved.names = [s["name"] for s in specs]
    return resolved
