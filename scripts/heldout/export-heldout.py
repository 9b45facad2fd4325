#!/usr/bin/python3
"""Exports the PyTorch part of the held-out accuracy set and writes onnx facts for every model in it.

The held-out set is what `npm run accuracy:ort` measures MemLens against; no unit test and no rule
is tuned on it. This script writes .cache/heldout/models/<name>.onnx for torchvision and torch.nn
architectures with random weights from a fixed seed (nothing is downloaded), then a sidecar
<name>.json of facts computed by the onnx package for every .onnx in that folder, the npm-shipped
ones (scripts/heldout/fetch-npm-models.mjs) included: initializer and Constant bytes in the main
graph and in every If/Loop/Scan body, op counts, inputs.

Run with Debian's interpreter, which has torch 1.13, torchvision 0.14 and onnx 1.12:
    /usr/bin/python3 scripts/heldout/export-heldout.py [--force] [--only NAME ...] [--out DIR]
"""

import argparse
import collections
import hashlib
import io
import json
import os
import sys
import time
import warnings

GENERATOR_VERSION = 1
SEED = 0

try:
    import numpy as np
    import onnx
    import onnx.numpy_helper
    import torch
    import torchvision
    from torchvision.models.vision_transformer import VisionTransformer
except ImportError as missing:
    sys.exit(
        f"export-heldout: {missing}. Install Debian's packages: "
        "apt-get install -y python3-torch python3-torchvision python3-onnx, "
        "and run this script with /usr/bin/python3."
    )


class TokenEncoder(torch.nn.Module):
    """Token embedding, learned positions sliced to the input length, nn.TransformerEncoder, a head."""

    def __init__(self, vocab=16000, max_seq=512, d_model=384, heads=6, layers=6, ffn=1536):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.position = torch.nn.Parameter(torch.zeros(1, max_seq, d_model))
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=ffn, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, vocab)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position[:, : tokens.shape[1]]
        return self.head(self.encoder(x))


class LstmCellLoop(torch.nn.Module):
    """A two-layer LSTM written as a loop over time steps; scripted, so the loop stays an ONNX Loop."""

    def __init__(self, features=64, hidden=256):
        super().__init__()
        self.hidden = hidden
        self.cell1 = torch.nn.LSTMCell(features, hidden)
        self.cell2 = torch.nn.LSTMCell(hidden, hidden)
        self.head = torch.nn.Linear(hidden, 32)

    def forward(self, x):
        h1 = torch.zeros(x.size(1), self.hidden)
        c1 = torch.zeros(x.size(1), self.hidden)
        h2 = torch.zeros(x.size(1), self.hidden)
        c2 = torch.zeros(x.size(1), self.hidden)
        for t in range(x.size(0)):
            h1, c1 = self.cell1(x[t], (h1, c1))
            h2, c2 = self.cell2(h1, (h2, c2))
        return self.head(h2)


class GruCellLoop(torch.nn.Module):
    """A GRU (gates written out: 1.13 cannot export aten::gru_cell) over time steps, per-step outputs
    collected in a list and stacked (sequence ops)."""

    def __init__(self, features=80, hidden=192):
        super().__init__()
        self.hidden = hidden
        self.x_gates = torch.nn.Linear(features, 3 * hidden)
        self.h_gates = torch.nn.Linear(hidden, 3 * hidden)
        self.proj = torch.nn.Linear(hidden, 40)

    def forward(self, x):
        h = torch.zeros(x.size(1), self.hidden)
        outs = []
        for t in range(x.size(0)):
            xr, xz, xn = self.x_gates(x[t]).chunk(3, 1)
            hr, hz, hn = self.h_gates(h).chunk(3, 1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            outs.append(self.proj(h))
        return torch.stack(outs)


class GatedBranches(torch.nn.Module):
    """A data-dependent branch: a wide MLP when the input's mean is positive, a narrow one otherwise."""

    def __init__(self, features=256):
        super().__init__()
        self.wide = torch.nn.Sequential(torch.nn.Linear(features, 4096), torch.nn.GELU(), torch.nn.Linear(4096, features))
        self.narrow = torch.nn.Sequential(torch.nn.Linear(features, 512), torch.nn.ReLU(), torch.nn.Linear(512, features))

    def forward(self, x):
        if bool(x.mean() > 0):
            y = self.wide(x)
        else:
            y = self.narrow(x)
        return y + x


class BiLstm(torch.nn.Module):
    """nn.LSTM, bidirectional, two layers: exported as ONNX LSTM operators."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=80, hidden_size=256, num_layers=2, bidirectional=True)
        self.head = torch.nn.Linear(512, 29)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y)


class QuantStubbed(torch.nn.Module):
    """A small CNN for eager-mode static quantisation (fbgemm): exported as QuantizeLinear/DequantizeLinear."""

    def __init__(self):
        super().__init__()
        q = torch.ao.quantization
        self.quant = q.QuantStub()
        self.dequant = q.DeQuantStub()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(64, 128, 3, stride=2, padding=1), torch.nn.ReLU(),
        )
        self.fc = torch.nn.Linear(128, 100)

    def forward(self, x):
        x = self.body(self.quant(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.dequant(self.fc(x))


def quantised_cnn():
    q = torch.ao.quantization
    model = QuantStubbed().eval()
    model.qconfig = q.get_default_qconfig("fbgemm")
    q.fuse_modules(model.body, [["0", "1"], ["2", "3"], ["4", "5"]], inplace=True)
    q.prepare(model, inplace=True)
    with torch.no_grad():
        model(torch.randn(8, 3, 96, 96))
    q.convert(model, inplace=True)
    return model


class Outputs(torch.nn.Module):
    """Returns a model's dict or OrderedDict outputs as a tuple (the exporter wants tensors)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        out = self.inner(x)
        return tuple(out.values())


def fpn_backbone():
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

    return Outputs(resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=5))


def image(n=224, batch=1):
    return lambda: torch.rand(batch, 3, n, n)


def seq_input(t, b, f):
    return lambda: torch.randn(t, b, f)


def tokens(seq, vocab):
    return lambda: (torch.arange(seq, dtype=torch.int64).reshape(1, seq) * 37) % vocab


# name -> builder, builder text, input, opset, extras (dynamic axes, script, fp16, no randomise)
MODELS = {
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), "torchvision resnet50", image(), 13, {}),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(weights=None), "torchvision efficientnet_b0", image(), 13, {}),
    "densenet121": (lambda: torchvision.models.densenet121(weights=None), "torchvision densenet121", image(), 13, {}),
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(weights=None), "torchvision mobilenet_v3_large", image(), 13, {}),
    "regnet_y_400mf": (lambda: torchvision.models.regnet_y_400mf(weights=None), "torchvision regnet_y_400mf", image(), 13, {}),
    "shufflenet_v2": (lambda: torchvision.models.shufflenet_v2_x1_0(weights=None), "torchvision shufflenet_v2_x1_0", image(), 13, {}),
    "deeplabv3_mobilenet": (
        lambda: Outputs(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None)),
        "torchvision segmentation deeplabv3_mobilenet_v3_large at 256x256", image(256), 13, {},
    ),
    "fpn_resnet18": (fpn_backbone, "torchvision detection resnet_fpn_backbone('resnet18') at 320x320", image(320), 13, {}),
    "swin_t": (lambda: torchvision.models.swin_t(weights=None), "torchvision swin_t", image(), 14, {}),
    "vit_s_16_dynamic_batch": (
        lambda: VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536),
        "torchvision VisionTransformer ViT-S/16 with a dynamic batch axis", image(), 14,
        {"dynamic_axes": {"input": {0: "batch"}}},
    ),
    "token_encoder_dynamic_seq": (
        lambda: TokenEncoder(), "nn.TransformerEncoder, d_model 384, 6 heads, 6 layers, dynamic sequence axis",
        tokens(128, 16000), 17, {"dynamic_axes": {"input": {1: "seq"}}},
    ),
    "lstm_cell_loop": (lambda: LstmCellLoop(), "scripted two-layer LSTMCell loop over 48 steps", seq_input(48, 1, 64), 14, {"script": True}),
    "gru_cell_loop": (lambda: GruCellLoop(), "scripted GRU loop over 40 steps, outputs stacked from a list", seq_input(40, 1, 80), 14, {"script": True}),
    "gated_branches": (lambda: GatedBranches(), "scripted data-dependent branch between a wide and a narrow MLP", lambda: torch.randn(64, 256), 14, {"script": True}),
    "bilstm": (lambda: BiLstm(), "nn.LSTM(80, 256, num_layers=2, bidirectional=True) over 100 steps", seq_input(100, 1, 80), 14, {}),
    "quantised_cnn": (quantised_cnn, "eager static quantisation (fbgemm) of a three-conv CNN, QDQ export", image(96), 13, {"randomise": False}),
    "squeezenet_fp16": (
        lambda: torchvision.models.squeezenet1_1(weights=None), "torchvision squeezenet1_1 converted to float16", image(), 13, {"fp16": True},
    ),
}


def randomise_like_trained(model):
    # Fresh initialisation leaves equal tensors (zero biases, unit norms) that the exporter would
    # store once; noise makes each distinct, as in a trained model.
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.01)
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)


def to_float16(model):
    """Every float32 tensor of a plain CNN graph (initializers, inputs, outputs, value_info) as float16."""
    f32, f16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
    graph = model.graph
    for i, init in enumerate(graph.initializer):
        if init.data_type == f32:
            half = onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(init).astype(np.float16), init.name)
            graph.initializer[i].CopyFrom(half)
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.tensor_type.elem_type == f32:
            value.type.tensor_type.elem_type = f16
    for node in graph.node:
        if node.op_type == "Cast":
            for attr in node.attribute:
                if attr.name == "to" and attr.i == f32:
                    attr.i = f16
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == f32:
                    attr.t.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(attr.t).astype(np.float16)))
    onnx.checker.check_model(model)
    return model


def settings_key(name):
    _, text, _, opset, extras = MODELS[name]
    raw = json.dumps([GENERATOR_VERSION, SEED, text, opset, sorted(extras), torch.__version__, onnx.__version__])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def export(name, out_dir):
    build, _text, make_input, opset, extras = MODELS[name]
    torch.manual_seed(SEED)
    model = build().eval()
    if extras.get("randomise", True):
        randomise_like_trained(model)
    example = make_input()
    if extras.get("script"):
        model = torch.jit.script(model)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), buffer, opset_version=opset, input_names=["input"],
            dynamic_axes=extras.get("dynamic_axes"), do_constant_folding=True,
        )
    onnx_model = onnx.load_from_string(buffer.getvalue())
    if extras.get("fp16"):
        onnx_model = to_float16(onnx_model)
    path = os.path.join(out_dir, f"{name}.onnx")
    onnx.save(onnx_model, path + ".tmp")
    os.replace(path + ".tmp", path)
    with open(os.path.join(out_dir, f"{name}.source"), "w") as f:
        f.write(settings_key(name))


def is_current(name, out_dir):
    path = os.path.join(out_dir, f"{name}.onnx")
    stamp = os.path.join(out_dir, f"{name}.source")
    if not (os.path.exists(path) and os.path.exists(stamp)):
        return False
    with open(stamp) as f:
        return f.read() == settings_key(name)


def dims_of(value):
    out = []
    for d in value.type.tensor_type.shape.dim:
        out.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
    return out


def tensor_bytes(t):
    return int(onnx.numpy_helper.to_array(t).nbytes)


def graph_facts(graph, depth, acc):
    """Initializer and Constant bytes of a graph and, recursively, of its subgraphs."""
    key = "main" if depth == 0 else "subgraphs"
    for init in graph.initializer:
        acc[key]["initializerTensors"] += 1
        acc[key]["initializerBytes"] += tensor_bytes(init)
    for node in graph.node:
        acc["ops"][node.op_type] += 1
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.name == "value":
                acc[key]["constantTensors"] += 1
                acc[key]["constantBytes"] += tensor_bytes(attr.t)
            if attr.type == onnx.AttributeProto.GRAPH:
                acc["subgraphCount"] += 1
                graph_facts(attr.g, depth + 1, acc)
            for g in attr.graphs:
                acc["subgraphCount"] += 1
                graph_facts(g, depth + 1, acc)


def onnx_facts(path):
    model = onnx.load(path)
    zero = lambda: {"initializerTensors": 0, "initializerBytes": 0, "constantTensors": 0, "constantBytes": 0}
    acc = {"main": zero(), "subgraphs": zero(), "ops": collections.Counter(), "subgraphCount": 0}
    graph_facts(model.graph, 0, acc)
    inits = {i.name for i in model.graph.initializer}
    return {
        "irVersion": int(model.ir_version),
        "opsets": {o.domain or "ai.onnx": int(o.version) for o in model.opset_import},
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "main": acc["main"],
        "subgraphs": acc["subgraphs"],
        "subgraphCount": acc["subgraphCount"],
        "nodes": len(model.graph.node),
        "opTypes": dict(sorted(acc["ops"].items())),
        "inputs": [{"name": v.name, "shape": dims_of(v), "elemType": v.type.tensor_type.elem_type} for v in model.graph.input if v.name not in inits],
        "fileBytes": os.path.getsize(path),
    }


def write_facts(out_dir, force):
    for entry in sorted(os.listdir(out_dir)):
        if not entry.endswith(".onnx"):
            continue
        name = entry[: -len(".onnx")]
        path = os.path.join(out_dir, entry)
        sidecar = os.path.join(out_dir, f"{name}.json")
        stamp = os.path.join(out_dir, f"{name}.source")
        source = open(stamp).read() if os.path.exists(stamp) else ""
        key = hashlib.sha256(json.dumps([GENERATOR_VERSION, source, os.path.getsize(path), onnx.__version__]).encode()).hexdigest()[:16]
        if not force and os.path.exists(sidecar):
            try:
                with open(sidecar) as f:
                    if json.load(f).get("factsKey") == key:
                        continue
            except (OSError, ValueError):
                pass
        builder = MODELS[name][1] if name in MODELS else None
        facts = {
            "schema": "memlens.heldout/1",
            "name": name,
            "origin": "torch export" if name in MODELS else "npm",
            "builder": builder,
            "source": source,
            "factsKey": key,
            "versions": {"onnx": onnx.__version__, "torch": torch.__version__ if name in MODELS else None},
            "onnx": onnx_facts(path),
        }
        with open(sidecar, "w") as f:
            json.dump(facts, f, indent=1)
            f.write("\n")
        print(f"export-heldout: facts of {name} written")


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(root, ".cache", "heldout", "models"))
    parser.add_argument("--force", action="store_true", help="re-export even when up to date")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="export only these models")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in args.only or list(MODELS):
        if not args.force and is_current(name, args.out):
            print(f"export-heldout: {name} is up to date")
            continue
        start = time.time()
        export(name, args.out)
        print(f"export-heldout: {name} exported in {time.time() - start:.1f} s")
    write_facts(args.out, args.force)


if __name__ == "__main__":
    main()
