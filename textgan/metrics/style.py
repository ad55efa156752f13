"""Style-transfer evaluation: accuracy, BLEU-src, BLEU-ref, perplexity, geometric mean.

BLEU follows the protocol of most tables (Dai et al. 2019): nltk sentence BLEU-4 without
smoothing, averaged over outputs, x100; each output is scored against its own source
(BLEU-src) or its own human rewrites (BLEU-ref). sacrebleu corpus BLEU is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textgan.data.text import insert_only
from textgan.metrics.ngrams import corpus_bleu, sentence_bleu_scores


def paired_bleu4(outputs: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]]) -> float:
    """Mean nltk ``sentence_bleu(refs_i, out_i)`` (BLEU-4, no smoothing) x100 over pairs with references."""
    scores = [
        sentence_bleu_scores([out], list(refs), (4,), smoothing="method0")[4][0]
        for out, refs in zip(outputs, references, strict=True)
        if refs
    ]
    return 100.0 * math.fsum(scores) / len(scores) if scores else float("nan")


def geometric_mean(*values: float) -> float:
    """Geometric mean of positive values (NaN if any is missing or not positive)."""
    if any(v is None or not v > 0 for v in values):
        return float("nan")
    return math.exp(math.fsum(math.log(v) for v in values) / len(values))


def style_metrics(
    outputs: Sequence[str],
    sources: Sequence[str],
    references: Sequence[Sequence[Sequence[str]]],
    accuracy: float,
    ppl: float | None = None,
) -> dict[str, float | None]:
    """All style-transfer numbers for whitespace-tokenised outputs and sources.

    Args:
        outputs: transfers, one per source.
        sources: the inputs.
        references: per source, its human rewrites as word lists (possibly empty).
        accuracy: fraction of outputs the evaluator classifies as the target style.
        ppl: perplexity of the outputs under a language model, or None.

    Returns:
        ``accuracy`` (%), ``bleu_src``, ``bleu_ref`` (first reference), ``bleu_ref_multi`` (all
        references, when there are several), their sacrebleu ``*_corpus`` versions, ``ppl``, ``gm``.
    """
    out_tok = [o.split() for o in outputs]
    bleu_src = paired_bleu4(out_tok, [[s.split()] for s in sources])
    first = [r[:1] for r in references]
    result: dict[str, float | None] = {
        "accuracy": 100.0 * accuracy,
        "bleu_src": bleu_src,
        "bleu_src_corpus": corpus_bleu(list(outputs), list(sources)),
    }
    if any(first):
        result["bleu_ref"] = paired_bleu4(out_tok, first)
        pairs = [(o, r) for o, r in zip(outputs, references, strict=True) if r]
        result["bleu_ref_corpus"] = corpus_bleu([o for o, _ in pairs], [" ".join(r[0]) for _, r in pairs])
        if max(len(r) for r in references) > 1:
            result["bleu_ref_multi"] = paired_bleu4(out_tok, references)
    else:
        result["bleu_ref"] = None
    result["ppl"] = ppl
    result["gm"] = geometric_mean(result["accuracy"], bleu_src, result["bleu_ref"])  # type: ignore[arg-type]
    return result


def style_accuracy(classifier: object, vocab: object, outputs: Sequence[str], targets: Sequence[int]) -> float:
    """The share of ``outputs`` that ``classifier`` reads as their target style (NaN for none)."""
    from textgan.runs import predict_styles

    if not outputs:
        return float("nan")
    pred = predict_styles(classifier, vocab, list(outputs))  # type: ignore[arg-type]
    return sum(p == t for p, t in zip(pred, targets, strict=True)) / len(outputs)


def score_outputs(
    outputs: Sequence[str],
    sources: Sequence[str],
    targets: Sequence[int],
    references: Sequence[Sequence[Sequence[str]]],
    evaluator: object,
    evaluator_vocab: object,
    lm: str | None = None,
) -> dict[str, float | None]:
    """``style_metrics`` of any system's transfers: the evaluator classifier's accuracy on the
    target styles, BLEU-src / BLEU-ref, the perplexity under the LM run ``lm`` (when given) and
    ``insert_only`` (the % of outputs that keep the whole source in order and only insert).

    Args:
        outputs: whitespace-tokenised transfers, one per source (an empty string is an output).
        sources: the test sentences, as in the test files.
        targets: the target style of each output.
        references: per source, its human rewrites as word lists.
        evaluator, evaluator_vocab: a ``textgan train classifier`` model and its vocabulary.
        lm: an LM run directory (``textgan train lm`` on the training text) for perplexity.
    """
    from textgan.metrics.nll import nll_gen

    if not outputs:
        raise ValueError("score_outputs: no outputs")
    accuracy = style_accuracy(evaluator, evaluator_vocab, outputs, targets)
    ppl = math.exp(nll_gen(lm, [o if o.strip() else "<unk>" for o in outputs])) if lm else None
    result = style_metrics(outputs, sources, references, accuracy, ppl)
    inserted = sum(insert_only(o.split(), s.split()) for o, s in zip(outputs, sources, strict=True))
    result["insert_only"] = 100.0 * inserted / len(outputs)
    return result


# -- whole evaluations (``textgan eval style``) ---------------------------------------------------------


@dataclass
class StyleEvaluation:
    """One decoding's transfers of a split and their scores (``evaluate_style``).

    Attributes:
        decoding: ``beam``, ``style_rerank``, ``content_rerank``, ``content_order``, ``no_repeat``
            (and ``style_words`` when it acted).
        result: ``accuracy``, ``bleu_src``, ``bleu_ref`` (test split), ``ppl`` (with an LM), ``gm``, ...
        sources, targets, outputs: the split's sentences, the target style of each, and the transfers.
    """

    decoding: dict[str, Any]
    result: dict[str, float | None]
    sources: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def transfer_split(
    data: str | Path, cfg: Any, vocab: Any, split: str = "test"
) -> tuple[list[str], list[int], list[list[list[str]]], list[list[str]]]:
    """A split of the style directory ``data`` as a style run (config ``cfg``, vocabulary ``vocab``)
    transfers it: the sentences, each one's target style (the other one), its human rewrites as word
    lists (test split; none elsewhere) and its tokens under the run's normalisation."""
    from textgan.data.style import load_style_corpus

    corpus = load_style_corpus(
        data, normalize=cfg.data.normalize, lowercase=cfg.data.lowercase, max_len=cfg.data.max_len, vocab=vocab
    )
    part = corpus.splits[split]
    sources = list(part.texts)
    targets = [1 - s for s in part.labels.tolist()]
    refs = corpus.references[0] + corpus.references[1] if split == "test" else [[] for _ in sources]
    return sources, targets, refs, [corpus.tokenizer.tokenize(s) for s in sources]


def evaluate_style(
    run: str | Path,
    data: str | Path,
    classifier: str | Path,
    *,
    lm: str | Path | None = None,
    split: str = "test",
    beam: int = 1,
    style_rerank: Sequence[float] = (0.0,),
    content_rerank: Sequence[float] = (0.0,),
    content_order: Sequence[int] = (2,),
    no_repeat: bool = False,
    style_words: float = 0.0,
    content_slots: bool = False,
    fluency_rerank: Sequence[float] = (0.0,),
    fluency_lm: str | Path | None = None,
    insert_penalty: Sequence[float] = (0.0,),
    device: str = "cpu",
) -> list[StyleEvaluation]:
    """Transfer a split of ``data`` with a ``train style`` run and score it with the evaluator
    classifier run ``classifier`` (and the LM run ``lm`` for perplexity), as ``textgan eval style
    --run`` does.

    With a beam, every (style weight, content weight, content order) combination of the three lists
    is ranked from one beam search; one ``StyleEvaluation`` per combination, in that nesting order.
    ``style_words`` (nats, 0: off) leaves the source's style-carrying words out of every content
    overlap (``decoding.style_word_mask`` under the run's own classifier). ``content_slots`` makes
    those words (or, without ``style_words``, the words an ``--st-style-mask`` run's encoder hides)
    slots that any one word fills (``Rerank.slots``). ``fluency_rerank`` weights
    (each a fourth axis of the grid, outermost) add that weight times the hypothesis's mean per-token
    log-probability under the LM run ``fluency_lm`` (``decoding.Fluency``; two comma-separated runs:
    one per target style, style 0's first); use another LM than ``lm``, or the perplexity reports
    the term it was ranked by. ``insert_penalty`` weights (a fifth
    axis, outside the fluency one) subtract that weight from every hypothesis that only inserts words
    into its source (``insert_only``).

    Raises:
        UserError: a bad run, data or classifier directory, or decoding values ``check_decoding`` refuses.
    """
    from textgan.decoding import (
        Rerank,
        beam_tokens,
        check_decoding,
        check_slots,
        rerank_grid,
        transfer_tokens,
    )
    from textgan.runs import load_classifier, load_fluency, load_style_run

    fluencies = list(dict.fromkeys(float(w) for w in fluency_rerank)) or [0.0]
    inserts = list(dict.fromkeys(float(w) for w in insert_penalty)) or [0.0]
    combos = rerank_grid(style_rerank, content_rerank, content_order)
    grid = [(ins, fl, *combo) for ins in inserts for fl in fluencies for combo in combos]
    for ins, fl, style_w, content_w, order in grid:
        check_decoding(
            {
                "beam": beam,
                "style_rerank": style_w,
                "content_rerank": content_w,
                "content_order": order,
                "style_words": style_words if content_w else 0.0,
                "content_slots": content_slots and bool(content_w),
                "fluency_rerank": fl,
                "fluency_lm": fluency_lm,
                "insert_penalty": ins,
            }
        )
    model, own_classifier, vocab, cfg = load_style_run(run, device)
    check_slots(content_slots, style_words, model)
    fluent = load_fluency(fluency_lm, vocab, device) if any(fluencies) else None  # type: ignore[arg-type]
    evaluator, ev_vocab, _ = load_classifier(classifier, device)
    sources, targets, refs, toks = transfer_split(data, cfg, vocab, split)
    beams = beam_tokens(model, vocab, toks, targets, beam, no_repeat=no_repeat) if beam > 1 else None
    out = []
    for ins, fl, style_w, content_w, order in grid:  # one beam search, ranked once per combination
        if beams is not None:
            tau = style_words if content_w else 0.0
            slots = content_slots and bool(content_w)
            words = beams.choose(Rerank(own_classifier, style_w, content_w, order, tau, fl, fluent, ins, slots))
        else:
            words = transfer_tokens(model, vocab, toks, targets, no_repeat=no_repeat)
        outputs = [" ".join(t) for t in words]
        result = score_outputs(outputs, sources, targets, refs, evaluator, ev_vocab, str(lm) if lm else None)
        decoding = {
            "beam": beam,
            "style_rerank": style_w,
            "content_rerank": content_w,
            "content_order": order,
            "no_repeat": no_repeat,
            **({"style_words": style_words} if style_words and content_w else {}),
            **({"content_slots": True} if content_slots and content_w else {}),
            **({"fluency_rerank": fl, "fluency_lm": str(fluency_lm)} if fl else {}),
            **({"insert_penalty": ins} if ins else {}),
        }
        out.append(StyleEvaluation(decoding, result, sources, targets, outputs))
    return out


def output_files(spec: str | Sequence[str | Path], data: str | Path, names: tuple[str, str]) -> list[Path]:
    """The two transfers files of ``--outputs`` (style-0 sources first): two paths (a list, or one
    comma-separated string), or a directory holding ``<style>.txt`` per source style or
    ``neg2pos.txt`` / ``pos2neg.txt``.

    Raises:
        UserError: not two files, or a directory without either layout.
    """
    from textgan.utils import UserError

    if not isinstance(spec, str) or "," in spec:
        parts = spec.split(",") if isinstance(spec, str) else [str(x) for x in spec]
        files = [Path(x.strip()) for x in parts if x.strip()]
        if len(files) != 2:
            raise UserError(f"--outputs: expected two files (style-0 sources, then style-1), got {spec!r}")
        return files
    folder = Path(spec)
    if not folder.is_dir():
        raise UserError(f"--outputs {spec}: not found (two comma-separated files, a directory, or 'copy')")
    a, b = names
    layouts = [(f"{a}.txt", f"{b}.txt"), (f"{a[:3]}2{b[:3]}.txt", f"{b[:3]}2{a[:3]}.txt")]
    for layout in layouts:
        if all((folder / f).is_file() for f in layout):
            return [folder / f for f in layout]
    wanted = " or ".join(" + ".join(layout) for layout in layouts)
    raise UserError(f"--outputs {spec}: expected {wanted} (transfers of the {a} and of the {b} test sentences)")


def evaluate_style_outputs(
    outputs: str | Sequence[str | Path],
    data: str | Path,
    classifier: str | Path,
    *,
    lm: str | Path | None = None,
    device: str = "cpu",
) -> StyleEvaluation:
    """Score any system's transfers of the test split of ``data`` with exactly the metrics of a
    run's evaluation (``textgan eval style --outputs``), without a model; the ``StyleEvaluation``
    has no decoding (``{}``).

    Args:
        outputs: ``"copy"`` (the unchanged input), two files (a list or ``"A,B"``: the transfers of the
            style-0 test sentences, then of the style-1 ones, one line each, in test order), or a
            directory (see :func:`output_files`).
        data: the style directory (``test.0``, ``test.1``, their references).
        classifier: the evaluator run (``textgan train classifier``).
        lm: an LM run for perplexity.

    Raises:
        UserError: missing files, a line count that differs from the test file's, bad encoding.
    """
    from textgan.data.corpus import input_lines, read_lines
    from textgan.data.style import read_references, read_style_names
    from textgan.runs import load_classifier
    from textgan.utils import UserError

    root = Path(data)
    if not root.is_dir():
        raise UserError(f"--data {data}: style directory not found")
    names = read_style_names(root)
    if not all((root / f"test.{s}").is_file() for s in (0, 1)):
        raise UserError(f"--data {data}: test.0 and test.1 are needed")
    sources = [read_lines(root / f"test.{s}") for s in (0, 1)]
    evaluator, ev_vocab, clf_cfg = load_classifier(classifier, device)
    transfers: list[str] = []
    if isinstance(outputs, str) and outputs == "copy":
        transfers = [line for lines in sources for line in lines]
    else:
        for style, path in enumerate(output_files(outputs, root, names)):
            lines = input_lines(path, "--outputs")
            if len(lines) != len(sources[style]):
                raise UserError(
                    f"--outputs {path}: {len(lines)} lines, but test.{style} ({names[style]}) has "
                    f"{len(sources[style])} sentences (one transfer per test sentence, in test order)"
                )
            lower = clf_cfg.data.lowercase
            transfers += [" ".join((ln.lower() if lower else ln).split()) for ln in lines]
    targets = [1] * len(sources[0]) + [0] * len(sources[1])
    refs = read_references(root, 0, len(sources[0])) + read_references(root, 1, len(sources[1]))
    flat = sources[0] + sources[1]
    result = score_outputs(transfers, flat, targets, refs, evaluator, ev_vocab, str(lm) if lm else None)
    return StyleEvaluation({}, result, flat, targets, transfers)
