"""Style-transfer evaluation: accuracy, BLEU-src, BLEU-ref, perplexity, geometric mean.

BLEU follows the protocol of most tables (Dai et al. 2019): nltk sentence BLEU-4 without
smoothing, averaged over outputs, x100; each output is scored against its own source
(BLEU-src) or its own human rewrites (BLEU-ref). sacrebleu corpus BLEU is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def insert_only(output: Sequence[str], source: Sequence[str]) -> bool:
    """Whether ``output`` keeps every ``source`` token, in order, and only adds tokens: the
    failure mode of a rewrite that inserts ("not", "loved") where a person substitutes a word."""
    if len(output) <= len(source):
        return False
    it = iter(output)
    return all(tok in it for tok in source)  # ``in`` on an iterator consumes it: a subsequence test


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
