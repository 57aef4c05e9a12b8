"""The packaged all-MiniLM-L6-v2 through ONNX Runtime: the same vectors as the NumPy pass, about twice as fast.

Why: the crisis detector embeds every sentence of a message (and the earlier messages of the
conversation), so the encoder's cost is paid several times a turn. ONNX Runtime runs the same graph in
about 4 ms for a short message where the NumPy pass takes about 8 ms.

The graph is exported once, by `faqbot index`, from the packaged weights (torch and onnx are needed
then, never at query time) into the model cache (`var/models`, or `$FAQBOT_MODELS`), under a name
that carries the packaged model's hash. Queries need only onnxruntime and tokenizers.
`tests/test_embeddings.py` holds it to cosine >= 0.9999 against the NumPy pass and sentence-transformers.

    path = export_onnx(packaged_model_path(), models_dir())   # at index time; reuses an earlier export
    encoder = OnnxMiniLM(path, packaged_model_path())
    encoder.encode(["how long is a session?"])                # (1, 384) float32, unit length
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from bot.minilm import ModelMissingError, length_batches

EXPORT_VERSION = 1   # bump when the exported graph changes


def onnx_path(model_dir: Path, cache_dir: Path) -> Path:
    """Where the export of this packaged model lives in the cache: named by a hash of the weights and the
    export version. The hash is remembered in the cache by the weights file's size and modification time
    (hashing 90 MB costs about 0.2 s of every start; an installed package's file does not change in place)."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    stamp = {"file": str(weights.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "export": EXPORT_VERSION}
    memo = Path(cache_dir) / "minilm-weights.json"
    try:
        saved = json.loads(memo.read_text())
        if {k: saved.get(k) for k in stamp} == stamp and isinstance(saved.get("key"), str):
            return Path(cache_dir) / f"minilm-{saved['key']}.onnx"
    except (OSError, ValueError, AttributeError):
        pass
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"export-v{EXPORT_VERSION}".encode())
    key = digest.hexdigest()[:16]
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**stamp, "key": key}))
        os.replace(tmp, memo)
    except OSError:
        pass   # a read-only cache only costs start-up time
    return Path(cache_dir) / f"minilm-{key}.onnx"


def export_onnx(model_dir: Path, cache_dir: Path) -> Path:
    """Export the packaged model (encoder + mean pooling + normalisation) to ONNX; reuse an existing export."""
    target = onnx_path(model_dir, cache_dir)
    if target.is_file():
        return target
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelMissingError("exporting the encoder needs torch and transformers; "
                                "run `bash scripts/setup.sh`") from exc

    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    sample = torch.ones((1, 8), dtype=torch.long)
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the tracer's notes on shapes it treats as constants
        torch.onnx.export(_Pooled(model), (sample, sample), str(tmp), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"}, "embedding": {0: "batch"}})
    os.replace(tmp, target)
    for old in target.parent.glob("minilm-*.onnx"):
        if old != target and not old.name.startswith(f"{target.stem}."):
            old.unlink(missing_ok=True)
    return target


def _session(ort, graph: Path, threads: int):  # noqa: ANN001, ANN202 - onnxruntime types stay local
    """An inference session over the graph as optimised by this ONNX Runtime version. The optimised graph
    is saved beside the export the first time, so later starts skip the optimiser (0.35 -> 0.15 s).
    Extended, not "all", optimisations: those are the fused CPU kernels, with no layout tied to this CPU."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    optimised = graph.with_name(f"{graph.stem}.ort-{ort.__version__}.opt.onnx")
    if optimised.is_file():
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimised), options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - a damaged cache file: optimise the export again
            optimised.unlink(missing_ok=True)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    tmp = optimised.with_name(f"{graph.stem}.{os.getpid()}.tmp.onnx")
    options.optimized_model_filepath = str(tmp)
    session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    try:
        os.replace(tmp, optimised)
    except OSError:
        pass   # read-only cache: the next start optimises again
    return session


class OnnxMiniLM:
    """Unit-length MiniLM vectors from an exported graph. ``threads`` is ONNX Runtime's intra-op count."""

    def __init__(self, graph: Path, model_dir: Path, threads: int = 1, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if threads < 1:
            raise ValueError("threads must be at least 1")
        if not Path(graph).is_file():
            raise ModelMissingError(f"{graph} is missing; run `faqbot index` to export the encoder")
        self.session = _session(ort, Path(graph), threads)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        self.hidden = int(self.session.get_outputs()[0].shape[-1] or 384)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (batched by length, so little padding)."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for idx, ids, mask in length_batches(self.tokenizer.encode_batch(list(texts)), batch_size):
            out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out
