"""The operators edge-predict runs: what its exporters emit (measured: tests/model/test_operators.py), nothing else.

A model using another operator is refused before onnxruntime sees it, unless the caller names it
(--allow-op, allow_ops=). Not in the set, on purpose: control flow whose work the file cannot bound (Loop, Scan,
If), onnxruntime's contrib operators (com.microsoft), string and regex operators, model-local functions, and any
custom domain. docs/security.md lists the set and why.
"""

from __future__ import annotations

from typing import Iterable

ONNX, ML = "ai.onnx", "ai.onnx.ml"

# ai.onnx: what torch 2.13's TorchScript and dynamo exporters emit for the trainer's models (Linear, MLP with
# sigmoid/relu/tanh, Standardized, Rescaled; the binary, multiclass and regression heads), plus the elementwise
# and shape operators of the same kinds that small feed-forward models use; CumSum and TopK: TabNet's sparsemax.
_ONNX = """
Abs Add And ArgMax ArgMin BatchNormalization Cast Ceil Clip Concat Constant ConstantOfShape CumSum Div Einsum Elu Equal
Erf Exp Expand Flatten Floor Gather GatherElements Gelu Gemm Greater GreaterOrEqual HardSigmoid HardSwish Identity
IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax MatMul Max Mean Min Mish Mul Neg Not Or Pow
PRelu Range Reciprocal ReduceL2 ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare
Relu Reshape Round Selu Shape Sigmoid Sign Size Slice Softmax Softplus Softsign Split Sqrt Squeeze Sub Sum Tanh Tile
TopK Transpose Trilu Unsqueeze Where Xor
"""
# ai.onnx.ml: the encoders and scalers of scikit-learn pipelines (skl2onnx) over numbers and categories.
_ML = """
ArrayFeatureExtractor Binarizer CastMap CategoryMapper DictVectorizer FeatureVectorizer Imputer LabelEncoder
Normalizer OneHotEncoder Scaler ZipMap
"""

DOCUMENTED: frozenset[tuple[str, str]] = frozenset(
    [(ONNX, op) for op in _ONNX.split()] + [(ML, op) for op in _ML.split()]
)


def name(domain: str, op_type: str) -> str:
    """How messages and --allow-op spell an operator: 'Loop' in the default domain, else 'domain:Op'."""
    domain = domain or ONNX
    return op_type if domain == ONNX else f"{domain}:{op_type}"


def parse(names: Iterable[str] | None) -> frozenset[tuple[str, str]]:
    """(domain, op_type) pairs from names as `name` spells them ('Loop', 'ai.onnx:Loop', 'com.microsoft:FusedGemm')."""
    pairs = set()
    for text in names or ():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"allow_ops: {text!r} is not an operator name such as 'Loop' or 'com.microsoft:Gelu'")
        domain, _, op_type = text.strip().rpartition(":")
        pairs.add((domain or ONNX, op_type))
    return frozenset(pairs)


def outside(used: Iterable[tuple[str, str]], allowed: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """The names of the operators in `used` that are neither documented nor allowed, sorted."""
    found = {(domain or ONNX, op) for domain, op in used}
    return sorted(name(d, op) for d, op in found if (d, op) not in DOCUMENTED and (d, op) not in allowed)
