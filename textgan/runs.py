"""Trained runs as objects: ``load(run_dir)`` for a run directory of any task, and what uses it.

A run directory holds ``model.json`` (task, sizes, format version), ``config.json``, ``vocab.txt``
and the exported weights (``*.safetensors``, loaded without executing code). This module is the
one place that reads them; it sits below ``metrics/`` and ``train/`` (it imports configs, data,
models and utils only), so both, the command line and user code call it.

>>> run = load("runs/style")                                 # doctest: +SKIP
>>> run.transfer(["The food was cold."], to="positive")      # doctest: +SKIP
['The food was delicious.']
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from textgan.config import FORMAT_VERSION, ClassifierConfig, LMConfig, StyleConfig
from textgan.data.style import DEFAULT_STYLE_NAMES, FLIP
from textgan.data.text import TextNormalizer
from textgan.data.vocab import HF_TOKENIZER_DIR, UNK, Tokenizer, Vocab
from textgan.decoding import (  # noqa: F401 - the decoding names re-exported: older code imports them from here
    CONTENT_ORDERS,
    DECODING_FILE,
    Beams,
    Fluency,
    Rerank,
    StyleFluency,
    beam_tokens,
    check_beam,
    check_decoding,
    check_slots,
    content_overlap,
    decoding_flags,
    fluency_lm_runs,
    read_decoding,
    rerank_grid,
    transfer_sentences,
    transfer_tokens,
    write_decoding,
)
from textgan.models.classifiers import TextCNN
from textgan.models.generators import Generator, build_generator, generate_ids
from textgan.models.style import StyleTransferModel
from textgan.utils import UserError, resolve_device

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_FILE = "model.json"
VOCAB_FILE = "vocab.txt"
GENERATOR_FILE = "generator.safetensors"
STYLE_MODEL_FILE = "style_model.safetensors"
STYLE_CLASSIFIER_FILE = "style_classifier.safetensors"
CLASSIFIER_FILE = "classifier.safetensors"
RATIO_FILE = "ratio.safetensors"  # textgan train ratio: the real-vs-generated classifier D
RATIO_CONFIG_FILE = "ratio.json"  # its settings, held-out AUC and AUC curve
CHECKPOINT_FILE = "checkpoints/last.pt"
METRICS_FILE = "metrics.jsonl"  # one JSON record per evaluation (read_metrics)
TENSORBOARD_DIR = "tensorboard"  # --tensorboard: the same records as TensorBoard scalars
RESAMPLE_WITH = ("critic", "ratio")
TASK_LM, TASK_STYLE, TASK_CLASSIFIER = "lm", "style", "classifier"


def read_run_files(run_dir: str | Path, task: str, config_cls: type, what: str) -> tuple[dict[str, Any], Any, Vocab]:
    """Read ``model.json``, the config and the vocabulary of a run directory of ``task``.

    Raises:
        UserError: a missing directory or file, another task, a newer format, unreadable metadata.
    """
    from textgan.config import load_json

    run = Path(run_dir)
    if not run.is_dir():
        raise UserError(f"{run}: run directory not found")
    for name in (CONFIG_FILE, MODEL_FILE, VOCAB_FILE):
        if not (run / name).is_file():
            raise UserError(f"{run}: not a textgan run directory (no {name})")
    try:
        meta = json.loads((run / MODEL_FILE).read_text(encoding="utf-8"))
        if meta.get("task") != task:
            raise UserError(f"{run}: a '{meta.get('task')}' run, not a {what} run")
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise UserError(f"{run}: written by a newer textgan (format {meta['format_version']}); upgrade textgan")
        cfg = load_json(config_cls, run / CONFIG_FILE)
        vocab = Vocab.load(run / VOCAB_FILE)
    except (ValueError, TypeError, json.JSONDecodeError) as err:
        raise UserError(f"{run}: unreadable run metadata ({err})") from None
    return meta, cfg, vocab


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Records of a run's ``metrics.jsonl`` (or any JSONL file of records: a frontier file); a torn
    last line from a crash is ignored."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def read_meta(run_dir: str | Path) -> dict[str, Any]:
    """A run directory's ``model.json`` (its task, sizes, style names, format version).

    Raises:
        UserError: not a run directory, or an unreadable ``model.json`` without a task.
    """
    if not Path(run_dir).is_dir():
        raise UserError(f"{run_dir}: run directory not found")
    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise UserError(f"{run_dir}: not a textgan run directory (no {MODEL_FILE})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        str(meta["task"])
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"{path}: unreadable ({err})") from None
    return meta


def load_safetensors(model: torch.nn.Module, path: Path) -> None:
    """Load exported weights into ``model`` (no code is executed).

    Raises:
        UserError: missing or unreadable file, or weights that do not fit the model.
    """
    from safetensors.torch import load_model

    if not path.is_file():
        raise UserError(f"{path}: no trained model in this run directory")
    try:
        load_model(model, str(path))
    except Exception as err:
        raise UserError(f"{path}: cannot load the model weights ({type(err).__name__}: {str(err)[:120]})") from None


def load_weights(model: torch.nn.Module, run_dir: str | Path, file: str, key: str) -> None:
    """``load_safetensors`` of ``run_dir/file``; when that file is there but will not load (torn,
    damaged), the same weights from the run's last checkpoint that loads (``last.pt``, else
    ``prev.pt``; its ``models[key]``), with one warning naming the checkpoint's step.

    Raises:
        UserError: no file, or neither the file nor any checkpoint loads.
    """
    path = Path(run_dir) / file
    try:
        load_safetensors(model, path)
        return
    except UserError as err:
        if not path.is_file():
            raise
        first = err
    for ckpt_path, ckpt, _ in _checkpoints(run_dir):
        try:
            model.load_state_dict(ckpt["models"][key])  # type: ignore[index]
        except Exception:  # noqa: BLE001 - unreadable, or without these weights: try the one before
            continue
        log.warning(
            "%s: unreadable; using the %s of %s (step %s) instead", path, key, ckpt_path.name, ckpt.get("step", "?")
        )
        return
    raise first


# -- language models -----------------------------------------------------------------------------------


def load_lm_run(run_dir: str | Path, device: str = "cpu") -> tuple[Generator, Vocab, Tokenizer, LMConfig]:
    """The latest generator of a ``train lm`` run, its vocabulary, tokenizer and config.

    Raises:
        UserError: not a run directory, another task, or no trained model yet.
    """
    run = Path(run_dir)
    meta, cfg, vocab = read_run_files(run, TASK_LM, LMConfig, "language-model")
    try:
        gen = build_generator(cfg.model, int(meta["vocab_size"]), int(meta["max_len"]), meta["banned_ids"], run_dir=run)
    except (OSError, ValueError) as err:  # a --generator hf run without its hf-model/ config
        raise UserError(f"{run}: cannot rebuild its generator ({str(err).splitlines()[0][:200]})") from None
    load_weights(gen, run, GENERATOR_FILE, "generator")
    spm_model = run / "spm.model" if cfg.data.tokenizer == "spm" else None
    hf_tokenizer = run / HF_TOKENIZER_DIR if cfg.data.tokenizer == "hf" else None
    tokenizer = Tokenizer(cfg.data.tokenizer, cfg.data.lowercase, spm_model, hf_tokenizer)
    return gen.to(resolve_device(device)).eval(), vocab, tokenizer, cfg


def load_fluency(spec: str | Path, source_vocab: Vocab, device: str = "cpu") -> Fluency | StyleFluency:
    """The ``--fluency-lm`` score of hypotheses of a style model's vocabulary ``source_vocab``: a
    ``Fluency`` under one LM run, or, for two comma-separated runs, a ``StyleFluency`` that scores
    each hypothesis under its target style's LM (style 0's first).

    Raises:
        UserError: not one or two LM runs, or one that ``load_lm_run`` refuses.
    """
    scores = []
    for run in fluency_lm_runs(spec):
        gen, vocab, tokenizer, _ = load_lm_run(run, device)
        scores.append(Fluency(gen, vocab, tokenizer, source_vocab))
    return scores[0] if len(scores) == 1 else StyleFluency(scores)


def load_critic(run_dir: str | Path, generator: Generator, cfg: LMConfig) -> torch.nn.Module:
    """The adversarial phase's critic f of an LM run (from its last checkpoint, loaded with
    ``weights_only``), in eval mode on the generator's device.

    Raises:
        UserError: a run without an adversarial phase (no critic), or an unreadable checkpoint.
    """
    from textgan.models.critics import CNNCritic

    path, state = _critic_state(run_dir)
    if state is None:
        raise UserError(
            f"{run_dir}: this run has no critic (it had no adversarial phase); use --resample-with ratio "
            f"after 'textgan train ratio --run {run_dir}'"
        )
    critic = CNNCritic(cfg.critic, generator.vocab_size, generator.max_len)
    try:
        critic.load_state_dict(state)
    except RuntimeError as err:
        raise UserError(f"{path}: the critic does not fit the run's config ({str(err)[:120]})") from None
    return critic.to(generator.banned.device).eval()


def _critic_state(run_dir: str | Path) -> tuple[Path, dict[str, torch.Tensor] | None]:
    """The critic's weights in the run's last checkpoint (or the one before, when the last will not
    load), and the file they came from; None when the run has no critic.

    Raises:
        UserError: no checkpoint loads.
    """
    errors = []
    for path, ckpt, why in _checkpoints(run_dir):
        if why:
            errors.append(f"{path}: unreadable checkpoint ({why})")
            continue
        return path, ckpt.get("models", {}).get("critic") if isinstance(ckpt, dict) else None
    if errors:
        raise UserError("; ".join(errors))
    return Path(run_dir) / CHECKPOINT_FILE, None


def _checkpoints(run_dir: str | Path) -> Iterator[tuple[Path, Any, str | None]]:
    """The run's last checkpoint, then the one before it (those that exist), each loaded with
    ``weights_only``: ``(path, checkpoint, None)``, or ``(path, None, why)`` when it will not load."""
    last = Path(run_dir) / CHECKPOINT_FILE
    for path in (last, last.with_name("prev.pt")):
        if not path.is_file():
            continue
        try:
            yield path, torch.load(path, map_location="cpu", weights_only=True), None
        except Exception as err:  # noqa: BLE001 - any failure to load is the same to a reader
            yield path, None, type(err).__name__


def load_ratio(run_dir: str | Path, generator: Generator, cfg: LMConfig) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The ratio discriminator D of an LM run (``textgan train ratio``) in eval mode, and its
    ``ratio.json`` record.

    Raises:
        UserError: no D yet (the message names the command that fits one), or unreadable files.
    """
    from safetensors.torch import load_file

    from textgan.config import RatioConfig
    from textgan.models.ratio import build_discriminator

    run = Path(run_dir)
    if not (run / RATIO_FILE).is_file() or not (run / RATIO_CONFIG_FILE).is_file():
        raise UserError(f"{run}: no ratio discriminator yet; fit one with: textgan train ratio --run {run}")
    try:
        record = json.loads((run / RATIO_CONFIG_FILE).read_text(encoding="utf-8"))
        rc = RatioConfig(**{"score": "mean", **record["config"]})  # Ds fitted before --score used the mean
        d = build_discriminator(
            rc.arch,
            generator.vocab_size,
            generator.max_len,
            cfg.critic,
            rc.embed_dim,
            rc.hidden_dim,
            rc.dropout,
            rc.score,
            generator,
        )
        d.load_state_dict(load_file(str(run / RATIO_FILE)))
    except Exception as err:
        raise UserError(
            f"{run / RATIO_FILE}: cannot load the ratio discriminator ({type(err).__name__}: {str(err)[:120]})"
        ) from None
    return d.to(generator.banned.device).eval(), record


RatioDirs = str | Path | Sequence[str | Path] | None


def ratio_dirs(run_dir: str | Path, ratio_dir: RatioDirs = None) -> list[Path]:
    """The directories holding D: ``ratio_dir`` (one path, several comma-separated in a string, or a
    sequence of paths: an ensemble), or the run itself when it is None or empty."""
    if ratio_dir is None:
        items: list[str | Path] = []
    elif isinstance(ratio_dir, (str, Path)):
        items = [x.strip() for x in str(ratio_dir).split(",") if x.strip()]
    else:
        items = list(ratio_dir)
    return [Path(x) for x in items] or [Path(run_dir)]


def load_scorer(
    run_dir: str | Path, generator: Generator, cfg: LMConfig, kind: str, ratio_dir: RatioDirs = None
) -> Any:
    """The sentence score s of ``--resample-with kind``: ids (B, T) -> (B,), higher = more real:
    the critic f (``critic``) or D's logit (``ratio``, from ``ratio_dir``, where ``train ratio
    --run-dir`` wrote it; default: the run itself). Several directories in ``ratio_dir`` make an
    ensemble whose score is the mean of their Ds' logits (each estimates log p_data / p_T, so the
    mean does too, with less of each D's own error); they must share D's temperature.

    Raises:
        UserError: an unknown kind, or a run without that model.
    """
    dev = generator.banned.device
    if kind == "critic":
        critic = load_critic(run_dir, generator, cfg)
        return lambda ids: critic(ids=ids.to(dev)).float()
    if kind == "ratio":
        dirs = ratio_dirs(run_dir, ratio_dir)
        for d in dirs:
            if d.resolve() != Path(run_dir).resolve() and not (d / RATIO_FILE).is_file():
                raise UserError(
                    f"--ratio {d}: no ratio discriminator there; fit one with: "
                    f"textgan train ratio --run {run_dir} --run-dir {d}"
                )
        loaded = [load_ratio(d, generator, cfg) for d in dirs]
        temps = {float(record["config"].get("temperature", 1.0)) for _, record in loaded}
        if len(temps) > 1:
            raise UserError(
                f"--ratio: the Ds were fitted at different temperatures ({', '.join(f'{t:g}' for t in sorted(temps))}); "
                "an ensemble needs one (train ratio --temperature T)"
            )
        models = [d for d, _ in loaded]

        def score(ids: torch.Tensor) -> torch.Tensor:  # the mean logit of the ensemble (one D: its logit)
            ids = ids.to(dev)
            return torch.stack([d(ids).float() for d in models]).mean(0)

        score.temperature = temps.pop()  # type: ignore[attr-defined]
        score.members = len(models)  # type: ignore[attr-defined]
        return score
    raise UserError(f"--resample-with: unknown score {kind!r} (choose from {', '.join(RESAMPLE_WITH)})")


def warn_temperature(scorer: Any, temperatures: Sequence[float]) -> None:
    """One warning when proposals are drawn at a temperature other than D's: D's logit estimates
    log p_data / p_T' for its own T', so A = 1 then targets p_T · p_data / p_T', not p_data."""
    own = getattr(scorer, "temperature", None)
    other = sorted({float(t) for t in temperatures if own is not None and float(t) != own})
    if other:
        log.warning(
            "--resample at T = %s with a D fitted at T = %g: A = 1 targets p_T · p_data / p_%g there, not the "
            "data (fit D with 'train ratio --temperature T' to match)",
            ", ".join(f"{t:g}" for t in other), own, own,
        )  # fmt: skip


def run_judges(run_dir: str | Path, generator: Generator, cfg: LMConfig, ratio_dir: RatioDirs = None) -> dict[str, Any]:
    """The scores a run has for telling real from generated text: ``critic`` (runs with an
    adversarial phase) and ``d`` (after ``textgan train ratio``; in ``ratio_dir`` when given), as
    ``load_scorer`` gives them."""
    judges: dict[str, Any] = {}
    run = Path(run_dir)
    if (run / CHECKPOINT_FILE).is_file() and _critic_state(run)[1] is not None:  # MLE-only runs have none
        judges["critic"] = load_scorer(run, generator, cfg, "critic")
    if all((d / RATIO_FILE).is_file() for d in ratio_dirs(run, ratio_dir)):
        judges["d"] = load_scorer(run, generator, cfg, "ratio", ratio_dir)
    return judges


# -- classifiers ---------------------------------------------------------------------------------------------


def load_classifier(run_dir: str | Path, device: str = "cpu") -> tuple[TextCNN, Vocab, ClassifierConfig]:
    """The best classifier of a ``train classifier`` run.

    Raises:
        UserError: not a classifier run directory, or no trained model.
    """
    run = Path(run_dir)
    meta, cfg, vocab = read_run_files(run, TASK_CLASSIFIER, ClassifierConfig, "classifier")
    model = TextCNN(cfg.model, int(meta["vocab_size"]))
    load_safetensors(model, run / CLASSIFIER_FILE)
    return model.to(resolve_device(device)).eval(), vocab, cfg


@torch.no_grad()
def predict_styles(classifier: TextCNN, vocab: Vocab, texts: Sequence[str], batch_size: int = 512) -> list[int]:
    """Predicted style (0 or 1) of whitespace-tokenised texts (an empty text counts as ``<unk>``)."""
    was = classifier.training
    classifier.eval()
    out: list[int] = []
    for i in range(0, len(texts), batch_size):
        ids, _ = vocab.encode_batch([t.split() or [UNK] for t in texts[i : i + batch_size]], 64)
        out += classifier(ids=ids.to(classifier.embedding.device)).argmax(dim=1).tolist()
    classifier.train(was)
    return out


# -- style transfer ------------------------------------------------------------------------------------------


def load_style_run(run_dir: str | Path, device: str = "cpu") -> tuple[StyleTransferModel, TextCNN, Vocab, StyleConfig]:
    """The latest model and style classifier of a ``train style`` run, its vocabulary and config.

    Raises:
        UserError: not a style run directory, or no trained model yet.
    """
    run = Path(run_dir)
    meta, cfg, vocab = read_run_files(run, TASK_STYLE, StyleConfig, "style-transfer")
    dev = resolve_device(device)
    model = StyleTransferModel(cfg.model, int(meta["vocab_size"]), int(meta["max_len"]))
    load_weights(model, run, STYLE_MODEL_FILE, "model")
    clf = TextCNN(cfg.classifier, int(meta["vocab_size"]))
    load_weights(clf, run, STYLE_CLASSIFIER_FILE, "classifier")
    return model.to(dev).eval(), clf.to(dev).eval(), vocab, cfg


def _style_names(meta: dict[str, Any]) -> tuple[str, str]:
    names = meta.get("styles") or DEFAULT_STYLE_NAMES
    return str(names[0]), str(names[1])


@dataclass
class StyleRun:
    """A trained style-transfer run (``load`` returns it for ``train style`` run dirs).

    Attributes:
        model: the encoder-decoder (eval mode).
        classifier: the run's own style classifier (decides ``to="flip"``).
        vocab: the model's vocabulary.
        config: the run's ``StyleConfig``.
        style_names: names of style 0 and style 1 (``styles.txt`` of the data, else negative / positive).
        normalizer: text -> model tokens and back (``data.text``), as in training.
        decoding: the run's tuned decoding (``RUN/decoding.json``, see :func:`read_decoding`) as
            ``transfer`` keyword arguments, ``{}`` when it has none: ``run.transfer(texts, **run.decoding)``.
    """

    model: StyleTransferModel
    classifier: TextCNN
    vocab: Vocab
    config: StyleConfig
    style_names: tuple[str, str]
    normalizer: TextNormalizer
    decoding: dict[str, Any] = field(default_factory=dict)
    _lms: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def target_style(self, to: str) -> int | None:
        """Style index of a name (``None`` for ``flip``).

        Raises:
            UserError: a name that is not one of the run's styles.
        """
        if to == FLIP:
            return None
        if to not in self.style_names:
            a, b = self.style_names
            raise UserError(f"--to {to}: this run's styles are {a!r} and {b!r} (or {FLIP!r})")
        return self.style_names.index(to)

    def fluency_scorer(self, lm_run: str | Path) -> Fluency | StyleFluency:
        """The ``Fluency`` score of this run's hypotheses under the LM run ``lm_run``, or under one LM
        per target style for two comma-separated runs (``load_fluency``; loaded once, on the style
        model's device)."""
        key = str(lm_run)
        if key not in self._lms:
            self._lms[key] = load_fluency(lm_run, self.vocab, str(next(self.model.parameters()).device))
        return self._lms[key]

    def styles_of(self, sentences: Sequence[str]) -> list[str]:
        """The style name the run's classifier gives each raw sentence."""
        toks = [" ".join(self.normalizer.tokenize(s)) for s in sentences]
        return [self.style_names[p] for p in predict_styles(self.classifier, self.vocab, toks)]

    def transfer(
        self,
        texts: Sequence[str],
        to: str = FLIP,
        beam: int = 1,
        raw_output: bool = False,
        style_rerank: float = 0.0,
        no_repeat: bool = False,
        content_rerank: float = 0.0,
        precision: str = "fp32",
        batch_size: int = 256,
        content_order: int = 2,
        style_words: float = 0.0,
        fluency_rerank: float = 0.0,
        fluency_lm: str | Path | None = None,
        insert_penalty: float = 0.0,
        content_slots: bool = False,
    ) -> list[str]:
        """Rewrite raw sentences in style ``to`` (a style name, or ``flip``: the opposite of the
        classifier's reading of each sentence).

        Args:
            texts: one sentence (or a few, transferred one by one) per string; empty strings give
                empty strings.
            to: target style name or ``flip``.
            beam: beam size (1: greedy).
            raw_output: return the model's tokens joined by spaces instead of detokenised,
                sentence-cased text.
            style_rerank: with ``beam > 1``, rank each beam's hypotheses by their length-normalised
                log-probability plus this weight times the run's classifier log p(target style).
            no_repeat: never write a word twice in a row.
            content_rerank: with ``beam > 1``, also add this weight times the word overlap of each
                hypothesis with its source (``content_overlap``: unigram and bigram F1, in [0, 1]).
            content_order: n-gram orders of that overlap, 1 to this (default 2; 4 favours keeping
                the source's longer runs of words).
            style_words: leave the source's style-carrying words (deleting one lowers the run's
                classifier's log p(source style) by at least this many nats) out of that overlap
                (0: off).
            content_slots: make those words (or, without ``style_words``, the words an
                ``--st-style-mask`` run's encoder hides) slots that any one word fills in that
                overlap, so that a substitution keeps all the content and beats an insertion.
            fluency_rerank: with ``beam > 1``, also add this weight times each hypothesis's mean
                per-token log-probability under the LM run ``fluency_lm`` (``decoding.Fluency``).
            fluency_lm: a ``train lm`` run on text of the run's domain (needed by ``fluency_rerank``), or
                two comma-separated runs, one per target style (style 0's first), e.g. each trained
                on that style's training sentences.
            insert_penalty: with ``beam > 1``, subtract this weight from every hypothesis that keeps
                the whole source in order and only adds words (``insert_only``).
            precision: ``fp32`` or ``bf16`` (bfloat16 autocast: faster on CPUs with bf16 matmul,
                and on GPUs; near-ties can pick other words).
            batch_size: sentences decoded together (larger batches pay with bf16).

        Returns:
            One string per input, in order.
        """
        check_decoding(
            {
                "beam": beam,
                "style_rerank": style_rerank,
                "content_rerank": content_rerank,
                "content_order": content_order,
                "style_words": style_words,
                "fluency_rerank": fluency_rerank,
                "fluency_lm": fluency_lm,
                "insert_penalty": insert_penalty,
                "content_slots": content_slots,
            }
        )
        check_slots(content_slots, style_words, self.model)
        if batch_size < 1:
            raise UserError("--batch-size: must be >= 1")
        target = self.target_style(to)
        toks = [self.normalizer.tokenize(s) for s in texts]
        if target is None:
            pred = predict_styles(self.classifier, self.vocab, [" ".join(t) for t in toks])
            targets = [1 - p for p in pred]
        else:
            targets = [target] * len(toks)
        lm = self.fluency_scorer(fluency_lm) if fluency_rerank else None
        rerank = Rerank(
            self.classifier,
            style_rerank,
            content_rerank,
            content_order,
            style_words,
            fluency_rerank,
            lm,
            insert_penalty,
            content_slots,
        )
        out = transfer_tokens(
            self.model,
            self.vocab,
            toks,
            targets,
            beam,
            batch_size=batch_size,
            by_sentence=True,
            rerank=rerank,
            no_repeat=no_repeat,
            precision=precision,
        )
        return [" ".join(t) if raw_output else self.normalizer.detokenize(t) for t in out]


def style_normalizer(cfg: StyleConfig, vocab: Vocab) -> TextNormalizer:
    """The run's normalisation for raw input. Runs made before ``--normalize`` existed read raw
    text through ``nltk`` too (their data was NLTK-tokenised), and lowercase it when their
    vocabulary has no capital letter (a lowercase model would see capitals only as ``<unk>``)."""
    lower = cfg.data.lowercase or not any(c.isupper() for tok in vocab.itos[4:] for c in tok)
    return TextNormalizer("nltk", lower)


@dataclass
class LMRun:
    """A trained language-model run (``load`` returns it for ``train lm`` run dirs).

    Attributes:
        generator: the generator (eval mode).
        vocab: its vocabulary.
        tokenizer: text <-> tokens of the run.
        config: the run's ``LMConfig``.
        run_dir: the run directory (where ``generate(resample=...)`` finds the critic and D).
    """

    generator: Generator
    vocab: Vocab
    tokenizer: Tokenizer
    config: LMConfig

    run_dir: Path | None = None

    def generate(
        self,
        n: int,
        temperature: float = 1.0,
        seed: int = 0,
        batch_size: int = 500,
        resample: int | None = None,
        alpha: float = 1.0,
        resample_with: str = "ratio",
        ratio_dir: RatioDirs = None,
    ) -> list[str]:
        """``n`` sentences sampled from ``softmax(logits / temperature)``, detokenised; the same
        ``seed`` gives the same sentences.

        With ``resample=M``: sampling-importance-resampling from q ∝ p_T · exp(alpha · s) (see
        ``textgan.sampling``): M proposals per sentence, one kept with probability ∝ exp(alpha · s),
        s the run's critic (``resample_with="critic"``) or its ratio discriminator D's logit
        (``"ratio"``, after ``textgan train ratio``; from ``ratio_dir`` when it wrote D elsewhere; a
        list of directories: the mean logit of their Ds). ``alpha=0`` is plain sampling.
        """
        if n < 1:
            raise UserError("-n: must be >= 1")
        if not (math.isfinite(temperature) and temperature > 0):
            raise UserError(f"--temperature: must be a finite number > 0, got {temperature}")
        rng = torch.Generator(device=self.generator.banned.device).manual_seed(seed)
        if resample is None:
            ids = generate_ids(self.generator, n, rng, batch_size, temperature)
        else:
            from textgan.sampling import check_resample, resample_ids

            try:
                check_resample(resample, alpha)
            except ValueError as exc:
                raise UserError(str(exc)) from None
            if self.run_dir is None:
                raise UserError("resample: this LMRun was not loaded from a run directory (use textgan.load)")
            scorer = load_scorer(self.run_dir, self.generator, self.config, resample_with, ratio_dir)
            warn_temperature(scorer, [temperature])
            ids = resample_ids(self.generator, scorer, n, resample, alpha, temperature, rng, batch_size).ids
        return [self.tokenizer.detokenize(self.vocab.decode(row)) for row in ids.tolist()]


def load(run_dir: str | Path, device: str = "cpu", task: str | None = None) -> LMRun | StyleRun:
    """A trained run of ``textgan train lm`` (``LMRun``) or ``train style`` (``StyleRun``).

    Args:
        run_dir: the run directory.
        device: ``cpu``, ``cuda``, ``cuda:i`` or ``auto``.
        task: ``lm`` or ``style`` to insist on one kind of run.

    Raises:
        UserError: not a run directory, another task than ``task``, a classifier run, or no
            trained model yet.
    """
    meta = read_meta(run_dir)
    found = str(meta["task"])
    if task is not None and found != task:
        what = {TASK_LM: "language-model", TASK_STYLE: "style-transfer"}.get(task, task)
        raise UserError(f"{run_dir}: a '{found}' run, not a {what} run")
    task = found
    if task == TASK_LM:
        return LMRun(*load_lm_run(run_dir, device), run_dir=Path(run_dir))
    if task == TASK_STYLE:
        model, clf, vocab, cfg = load_style_run(run_dir, device)
        names = _style_names(meta)
        return StyleRun(model, clf, vocab, cfg, names, style_normalizer(cfg, vocab), read_decoding(run_dir))
    raise UserError(f"{run_dir}: a '{task}' run; textgan.load reads 'lm' and 'style' runs")
