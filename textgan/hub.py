"""Hugging Face models out: a trained ``gpt2`` or ``hf`` generator as a ``transformers`` model directory.

A ``--generator hf`` run exports its model and the tokenizer it was trained with as they are (the
model's own vocabulary; every dropout stays 0, as textgan trained it). A ``gpt2`` run:

``export_hf(run_dir, out_dir)`` (``textgan export RUN --hf DIR``) writes the generator's
``GPT2LMHeadModel`` with ``save_pretrained`` and a word-level fast tokenizer built from the run's
vocabulary, so that

>>> from transformers import pipeline                                           # doctest: +SKIP
>>> pipeline("text-generation", model="hf/oracle-gpt2")("the", max_new_tokens=8)  # doctest: +SKIP

samples the distribution textgan samples: the tokens the generator never writes (``<pad>``,
``<bos>``) are suppressed in its generation config, every sequence starts from ``<bos>`` (the
tokenizer adds it) and ends at ``<eos>``. The tokenizer splits text on whitespace (lowercased
when the run was): text tokenised as the training data was gives the same ids.
"""

from __future__ import annotations

from pathlib import Path

from textgan.data.vocab import BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, UNK, Vocab
from textgan.runs import TASK_LM, load_lm_run, read_meta
from textgan.utils import UserError

EXPORTABLE = ("gpt2", "hf")  # generators with a Hugging Face class


WORD_MARK = "\u2581"  # "▁": a word's leading space inside the tokenizer, as SentencePiece writes it


def word_tokenizer(vocab: Vocab, lowercase: bool) -> object:
    """A ``PreTrainedTokenizerFast`` with the run's word vocabulary (ids unchanged): whitespace
    split, ``<unk>`` for unknown words, ``<bos>`` prepended to every input. Each word decodes with
    its leading space (as GPT-2's tokens do), so that ``pipeline`` joins a prompt and its
    continuation with one."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    specials = (PAD, BOS, EOS, UNK)
    words = {w if w in specials else WORD_MARK + w: i for i, w in enumerate(vocab.itos)}
    tok = Tokenizer(WordLevel(words, unk_token=UNK))
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    if lowercase:
        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(WORD_MARK, prepend_scheme="always", split=False)]
    )
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, BOS_ID)]
    )
    tok.decoder = decoders.Metaspace(WORD_MARK, prepend_scheme="never")  # "▁the", "▁cat" -> " the cat"
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, unk_token=UNK, pad_token=PAD)


def export_hf(run_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the run's generator and tokenizer to ``out_dir`` for ``transformers``; returns it.

    Raises:
        UserError: not an LM run, a generator without a Hugging Face class (``rmc``, ``lstm``), a
            SentencePiece run, or an ``out_dir`` that holds files already.
    """
    out = Path(out_dir)
    meta = read_meta(run_dir)
    if meta.get("task") != TASK_LM:
        raise UserError(f"{run_dir}: a '{meta.get('task')}' run; export --hf takes language-model runs")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--hf {out}: exists and is not empty; name a new directory")
    generator, vocab, tokenizer, cfg = load_lm_run(run_dir)
    if cfg.model.generator == "hf":
        return _export_pretrained(generator, tokenizer, out)
    if cfg.model.generator not in EXPORTABLE:
        raise UserError(
            f"export --hf: this run's generator is '{cfg.model.generator}', which has no Hugging Face model "
            f"class; only {', '.join(EXPORTABLE)} generators export (train with --generator gpt2 or hf)"
        )
    if cfg.data.tokenizer == "spm":
        raise UserError("export --hf: runs with --tokenizer spm do not export yet (their tokenizer has no converter)")
    from transformers import GenerationConfig

    model = generator.model  # the GPT2LMHeadModel inside textgan's GPT2Generator
    banned = [int(i) for i in generator.banned.nonzero().flatten().tolist()]
    model.config.update({"bos_token_id": BOS_ID, "eos_token_id": EOS_ID, "pad_token_id": PAD_ID})
    model.generation_config = GenerationConfig(
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        suppress_tokens=banned,
        do_sample=True,
        max_length=generator.max_len + 1,  # <bos> and max_len generated tokens, as textgan samples
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    word_tokenizer(vocab, cfg.data.lowercase).save_pretrained(str(out))
    return out


def _export_pretrained(generator: object, tokenizer: object, out: Path) -> Path:
    """A ``--generator hf`` run: its model (the trained weights, in the model's own vocabulary) and
    the tokenizer it came with; the model's tokens that textgan never generates are suppressed."""
    model = generator.model  # type: ignore[attr-defined]
    n_out = model.get_output_embeddings().weight.shape[0]
    used = set(generator.to_hf[~generator.banned].tolist())  # type: ignore[attr-defined]
    unused = sorted(set(range(n_out)) - used)
    if unused:
        model.generation_config.suppress_tokens = unused
    model.generation_config.do_sample = True
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.hf.save_pretrained(str(out))  # type: ignore[attr-defined]
    return out
