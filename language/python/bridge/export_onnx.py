"""Export a user's PyTorch model to ONNX for MemLens.

Run as `python export_onnx.py REQUEST.json`. The request names the user's file, the entry that
builds the model, the example inputs and where to write the ONNX file and the result JSON.
The result records what only the running program knows: each submodule's path, class and the
file and line of its forward, parameter and buffer sizes, and the exporter used. Source lines
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


def export(torch, model, args, names, out_path, mode, opset):
    training = mode == "train"
    model.train(training)
    if version_tuple(torch.__version__) >= (2, 5):
        program = torch.onnx.export(model, tuple(args), dynamo=True, input_names=names, opset_version=max(opset, 18))
        program.save(out_path)
        return "dynamo"
    mode_flag = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.PRESERVE
    with dedupe_by_storage_only(torch):
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
        exporter = export(torch, model, args, names, request["onnx"], request["mode"], request.get("opset", 17))
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
