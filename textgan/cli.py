"""Command line: ``textgan train lm``, ``generate``, ``eval lm``.

The CLI parses, builds configs, calls library functions and prints results. User
errors print one ``error: ...`` line on stderr and exit with code 2 (a traceback
only with ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textgan.utils import UserError, setup_logging

log = logging.getLogger("textgan.cli")
RERANK_HELP = (
    "with --beam K: rank the K final hypotheses by length-normalised log-probability + W * log p(target "
    "style) under the run's own classifier (0: off)"
)
CONTENT_RERANK_HELP = (
    "with --beam K: also add W * the word overlap of each hypothesis with its source (mean of the 1- to "
    "N-gram F1, N = --content-order, 0..1), favouring rewrites that keep the content (0: off)"
)
STYLE_WORDS_HELP = (
    "with --content-rerank: leave out of the content overlap the source words that carry its style: "
    "those whose deletion lowers the run's own classifier's log p(source style) by at least TAU nats, "
    "so that substituting a style word keeps as much content as inserting one (0: off)"
)
SLOTS_HELP = (
    "with --content-rerank: the source's style words (--style-words TAU's, else the words an "
    "--st-style-mask run's encoder hides) become slots that any one word fills in the content overlap, "
    "so that substituting a style word keeps all the content and beats inserting one"
)
FLUENCY_HELP = (
    "with --beam: add W times each hypothesis's mean per-token log-probability under --fluency-lm "
    "(an LM run on text of the domain; not the one that reports PPL) to its rank (0: off)"
)
FLUENCY_LM_HELP = (
    "LM run dir (textgan train lm on the training text) of --fluency-rerank, or two comma-separated ones, "
    "one per target style (style 0's first: each hypothesis is scored by the LM of the style it is written in)"
)
INSERT_HELP = (
    "with --beam: subtract W from the rank of every hypothesis that keeps the whole source in order and "
    "only adds words (insert-only: 'it was a not a great experience'), favouring substitutions (0: off)"
)
CONTENT_ORDER_HELP = (
    "N-gram orders of --content-rerank's overlap, 1 to N (default 2: unigrams and bigrams; 4 favours "
    "keeping the source's longer runs of words, as BLEU-4 does)"
)

USAGE = """usage: textgan <command> [options]

commands:
  train lm          train a text GAN generator (MLE pretraining, then adversarial)
  generate          write sentences from a trained LM run
  eval lm           BLEU / self-BLEU / NLL of a file of sentences
  plot              PNG curves of a run's metrics
  export            a trained gpt2 generator as a Hugging Face transformers model (--hf DIR)
  train classifier  train the separate style evaluator (TextCNN) on a style directory
  train ratio       fit a real-vs-generated classifier D to a finished LM run (for --resample)
  train style       train a sentiment style-transfer model (autoencoder, then adversarial)
  eval style        accuracy / BLEU-src / BLEU-ref / PPL of a style-transfer run
  transfer          rewrite sentences in the other sentiment with a trained run

'textgan <command> --help' describes each command's options; --debug shows tracebacks."""


def _die(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _tyro_error_line(text: str) -> str:
    """Reduce tyro's boxed error message (drawn with box characters or, on some consoles, ASCII) to one
    line: the box's first line holds its title (e.g. "Unrecognized options"), the lines inside the
    detail, up to the "For full helptext" hint."""
    rows = []
    for raw in text.splitlines():
        line = re.sub(r"^[╭╰┏┗+|│┃]+|[╮╯┓┛+|│┃]+$", "", raw.strip())  # the box's sides and corners
        line = re.sub(r"[─━]+|-{3,}", " ", line).strip()  # its rules
        if line.startswith("For full helptext"):
            break
        if line and not line.startswith("usage:"):
            rows.append(line)
    detail = rows[1:] or rows
    msg = " ".join(detail)[:300] if detail else "invalid arguments"
    return re.sub(r"^Error parsing (?:[\w.]+: )?", "", msg)


def _check_finite(cfg: Any) -> None:
    """Every float of a config (nested dataclasses included) is a finite number: NaN and infinity
    pass most range checks unnoticed (``nan <= 0`` is False), so they are refused by name."""
    import dataclasses
    import math

    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            _check_finite(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"--{f.name.replace('_', '-')}: must be a finite number, got {value}")


def _parse_config(cls: type, default: Any, args: list[str], prog: str) -> Any:
    """Flags generated by tyro from the config dataclass; errors become UserError."""
    import tyro

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            cfg = tyro.cli(cls, default=default, args=args, prog=prog, config=(tyro.conf.OmitArgPrefixes,))
    except SystemExit as exc:
        if exc.code in (0, None):
            sys.stderr.write(err.getvalue())
            raise
        raise UserError(_tyro_error_line(err.getvalue())) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _check_finite(cfg)
    return cfg


def cmd_train_lm(argv: list[str]) -> int:
    from textgan.config import DEFAULT_PRESET, PRESETS, LMConfig, load_json

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default=None)
    pre.add_argument("--config", default=None)
    pre.add_argument("--resume", action="store_true")
    pre.add_argument("--json", action="store_true")
    known, rest = pre.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        print(
            "textgan train lm [--preset NAME] [--config FILE] [--resume] [--debug] [flags]\n"
            f"  --preset NAME   one of: {', '.join(PRESETS)} (default: {DEFAULT_PRESET})\n"
            "  --config FILE   a config.json (e.g. from a run dir), applied after the preset\n"
            "  --resume        continue the run in --run-dir from its last checkpoint\n"
            "  --json          end with the final metrics as one JSON object (default: a small table)\n"
        )
    preset = known.preset or DEFAULT_PRESET
    if preset not in PRESETS:
        raise UserError(f"--preset: unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    default = PRESETS[preset]
    if known.config:
        try:
            default = load_json(LMConfig, known.config)
        except FileNotFoundError:
            raise UserError(f"--config {known.config}: file not found") from None
        except (ValueError, TypeError) as exc:
            raise UserError(f"--config {known.config}: {exc}") from None
    if known.resume:
        run_dir = _flag_value(rest, "--run-dir")
        if not run_dir:
            raise UserError("--resume needs --run-dir DIR")
        cfg_path = Path(run_dir) / "config.json"
        if not cfg_path.is_file():
            raise UserError(f"--resume: {cfg_path} not found (not a textgan run directory)")
        try:
            default = load_json(LMConfig, cfg_path)
        except (ValueError, TypeError) as exc:
            raise UserError(f"--resume: {cfg_path}: {exc}") from None
    init_from = None if known.resume else _flag_value(rest, "--init-from")
    if init_from and (Path(init_from) / "config.json").is_file():
        import dataclasses

        try:  # the corpus defaults to the pretrained run's own; explicit data flags still win
            default = dataclasses.replace(default, data=load_json(LMConfig, Path(init_from) / "config.json").data)
        except (ValueError, TypeError) as exc:
            raise UserError(f"--init-from {init_from}: config.json: {exc}") from None
    cfg = _parse_config(LMConfig, default, rest, "textgan train lm")
    from textgan.train.lm import train_lm

    record = train_lm(cfg, resume=known.resume)
    if _main_process():
        _print_final(record, known.json, record.get("run_dir"))
    return 0


def cmd_train_ratio(argv: list[str]) -> int:
    from textgan.config import RatioConfig
    from textgan.utils import env_world_size

    if env_world_size() > 1:
        raise UserError("train ratio: D trains in one process; start it without torchrun")
    as_json = "--json" in argv
    cfg = _parse_config(RatioConfig, RatioConfig(run="-"), [x for x in argv if x != "--json"], "textgan train ratio")
    from textgan.train.ratio import train_ratio

    if cfg.run == "-":
        raise UserError("--run: the LM run to fit D to is required (--run RUN)")
    record = train_ratio(cfg)
    _print_final(record, as_json, cfg.run_dir or cfg.run)
    return 0


def cmd_train_classifier(argv: list[str]) -> int:
    from textgan.config import CLASSIFIER_PRESETS, ClassifierConfig
    from textgan.utils import env_world_size

    if env_world_size() > 1:
        raise UserError("train classifier: the evaluator classifier trains in one process; start it without torchrun")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default="yelp")
    pre.add_argument("--json", action="store_true")
    known, rest = pre.parse_known_args(argv)
    if known.preset not in CLASSIFIER_PRESETS:
        raise UserError(f"--preset: unknown preset {known.preset!r} (choose from {', '.join(CLASSIFIER_PRESETS)})")
    cfg = _parse_config(ClassifierConfig, CLASSIFIER_PRESETS[known.preset], rest, "textgan train classifier")
    from textgan.train.classifier import train_classifier

    record = train_classifier(cfg)
    _print_final(record, known.json, cfg.run_dir or None)
    return 0


def cmd_train_style(argv: list[str]) -> int:
    from textgan.config import STYLE_PRESETS, StyleConfig, load_json

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default="yelp")
    pre.add_argument("--resume", action="store_true")
    pre.add_argument("--json", action="store_true")
    known, rest = pre.parse_known_args(argv)
    if known.preset not in STYLE_PRESETS:
        raise UserError(f"--preset: unknown preset {known.preset!r} (choose from {', '.join(STYLE_PRESETS)})")
    default = STYLE_PRESETS[known.preset]
    if known.resume:
        run_dir = _flag_value(rest, "--run-dir")
        if not run_dir or not (Path(run_dir) / "config.json").is_file():
            raise UserError("--resume needs --run-dir DIR of an existing style run (with config.json)")
        try:
            default = load_json(StyleConfig, Path(run_dir) / "config.json")
        except (ValueError, TypeError) as exc:
            raise UserError(f"--resume: {exc}") from None
    cfg = _parse_config(StyleConfig, default, rest, "textgan train style")
    from textgan.train.style import train_style

    record = train_style(cfg, resume=known.resume)
    if _main_process():
        _print_final(record, known.json, record.get("run_dir"), keep_none=True)
    return 0


BOOKKEEPING = {"step", "epoch", "adv_step", "elapsed", "eval_seconds", "seconds_per_iter", "beta", "best_step"}
# what the end-of-run table shows: evaluations, not the training statistics of the last steps
EVALUATION_KEYS = (
    "nll",
    "bleu",
    "self_bleu",
    "critic_auc",
    "d_auc",
    "accuracy",
    "dev_",
    "test_",
    "heldout",
    "ppl",
    "gm",
)


def _print_final(record: dict, as_json: bool, run_dir: str | None, keep_none: bool = False) -> None:
    """The end of a training command: the final metrics as a small table and where the run is, or
    with ``--json`` one JSON object of them (the full records stay in the run's files)."""
    numbers = {k: v for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if keep_none:
        numbers.update({k: v for k, v in record.items() if v is None})
    if as_json:
        print(json.dumps(numbers))
        return
    where = ", ".join(f"{k} {record[k]}" for k in ("epoch", "adv_step", "step") if k in record)
    print(f"final metrics ({where}):" if where else "final metrics:")
    shown_keys = [k for k in numbers if k.startswith(EVALUATION_KEYS)] or [k for k in numbers if k not in BOOKKEEPING]
    for k in shown_keys:
        v = numbers[k]
        shown = "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)
        print(f"  {k:<22}{shown:>12}")
    if run_dir:
        print(f"run directory: {run_dir} (every record and statistic: metrics.jsonl; --json prints them as JSON)")


def _main_process() -> bool:
    """Not a torchrun worker other than rank 0 (those print nothing on stdout)."""
    return os.environ.get("RANK", "0") in ("", "0")


def finite_float(text: str) -> float:
    """argparse type: a float that is a finite number (argparse's ``float`` takes 'nan' and 'inf')."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _number_list(kind: type) -> Any:
    """argparse type: a comma-separated list of ``kind`` values (one value is a list of one); floats
    must be finite."""
    convert = finite_float if kind is float else kind

    def parse(text: str) -> list:
        try:
            values = [convert(x) for x in text.split(",") if x.strip()]
        except (ValueError, argparse.ArgumentTypeError):
            values = []
        if not values:
            finite = " (finite numbers)" if kind is float else ""
            raise argparse.ArgumentTypeError(f"not a comma-separated list of {kind.__name__} values{finite}: {text!r}")
        return values

    return parse


def cmd_eval_style(argv: list[str]) -> int:
    from textgan.utils import atomic_write_bytes

    p = argparse.ArgumentParser(
        prog="textgan eval style",
        description="Accuracy, BLEU-src, BLEU-ref, PPL and their "
        "geometric mean of a style-transfer run on the test split (or dev, without BLEU-ref). "
        "--style-rerank, --content-rerank and --content-order take comma-separated values: every "
        "combination is scored from one beam search (one result each).",
    )
    p.add_argument("--run", default=None, help="style-transfer run dir (or --outputs)")
    p.add_argument(
        "--outputs",
        default=None,
        metavar="FILES|DIR|copy",
        help="score any system's transfers of the test split instead of a run: two files (transfers of "
        "the style-0 sources, then of the style-1 sources; comma-separated), a directory holding "
        "<style>.txt per source style (or neg2pos.txt / pos2neg.txt), or 'copy' (the unchanged input)",
    )
    p.add_argument("--data", required=True, help="style directory (test.{0,1} and references)")
    p.add_argument("--classifier", required=True, help="evaluator classifier run dir (textgan train classifier)")
    p.add_argument("--lm", default=None, help="LM run dir (textgan train lm on the training text) for perplexity")
    p.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    lists = " (comma-separated values: each combination scored)"
    weights, orders = _number_list(float), _number_list(int)
    p.add_argument("--style-rerank", type=weights, default=[0.0], metavar="W", help=RERANK_HELP + lists)
    p.add_argument("--content-rerank", type=weights, default=[0.0], metavar="W", help=CONTENT_RERANK_HELP + lists)
    p.add_argument("--content-order", type=orders, default=[2], metavar="N", help=CONTENT_ORDER_HELP + lists)
    p.add_argument("--style-words", type=float, default=0.0, metavar="TAU", help=STYLE_WORDS_HELP)
    p.add_argument("--content-slots", action="store_true", help=SLOTS_HELP)
    p.add_argument("--fluency-rerank", type=weights, default=[0.0], metavar="W", help=FLUENCY_HELP + lists)
    p.add_argument("--fluency-lm", default=None, metavar="LM_RUN", help=FLUENCY_LM_HELP)
    p.add_argument("--insert-penalty", type=weights, default=[0.0], metavar="W", help=INSERT_HELP + lists)
    p.add_argument("--no-repeat", action="store_true", help="never write a word twice in a row")
    p.add_argument(
        "--split",
        choices=("test", "dev"),
        default="test",
        help="split to transfer (dev has no human rewrites: tune decoding flags there, report test)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="transfers file (default: RUN/transfers.tsv, RUN/transfers-dev.tsv); with several "
        "combinations, one file each, named FILE-s<W>-c<W>-o<N>.tsv (-f<W>, -i<W>: fluency and insert weights)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", action="store_true", help="print one JSON object (one per combination)")
    a = _parse(p, argv)
    from textgan.metrics.style import evaluate_style, evaluate_style_outputs

    if (a.run is None) == (a.outputs is None):
        raise UserError("give exactly one of --run RUN_DIR (a model to evaluate) or --outputs (a system's transfers)")
    if a.outputs is not None:
        if a.split != "test":
            raise UserError("--outputs: scores transfers of the test split (drop --split)")
        ev = evaluate_style_outputs(a.outputs, a.data, a.classifier, lm=a.lm, device=a.device)
        what = "the unchanged input" if a.outputs == "copy" else a.outputs
        _print_style_result(ev.result, a.json, f"({len(ev.outputs)} test sentences: {what})")
        return 0
    evaluations = evaluate_style(
        a.run,
        a.data,
        a.classifier,
        lm=a.lm,
        split=a.split,
        beam=a.beam,
        style_rerank=a.style_rerank,
        content_rerank=a.content_rerank,
        content_order=a.content_order,
        no_repeat=a.no_repeat,
        style_words=a.style_words,
        content_slots=a.content_slots,
        fluency_rerank=a.fluency_rerank,
        fluency_lm=a.fluency_lm,
        insert_penalty=a.insert_penalty,
        device=a.device,
    )
    out = Path(a.out) if a.out else Path(a.run) / ("transfers.tsv" if a.split == "test" else f"transfers-{a.split}.tsv")
    for ev in evaluations:
        path, result = out, ev.result
        if len(evaluations) > 1:
            d = ev.decoding
            extra = f"-f{d['fluency_rerank']:g}" if d.get("fluency_rerank") else ""
            extra += f"-i{d['insert_penalty']:g}" if d.get("insert_penalty") else ""
            path = out.with_name(
                f"{out.stem}-s{d['style_rerank']:g}-c{d['content_rerank']:g}-o{d['content_order']}{extra}"
                f"{out.suffix or '.tsv'}"
            )
            keys = (
                "style_rerank",
                "content_rerank",
                "content_order",
                "style_words",
                "content_slots",
                "fluency_rerank",
                "insert_penalty",
            )
            result = {k: d[k] for k in keys if k in d} | result
        rows = zip(ev.sources, ev.targets, ev.outputs, strict=True)
        atomic_write_bytes(path, "".join(f"{s}\t{t}\t{o}\n" for s, t, o in rows).encode())
        _print_style_result(result, a.json, f"({len(ev.outputs)} {a.split} sentences; transfers in {path})")
    return 0


def _print_style_result(result: dict, as_json: bool, footer: str) -> None:
    if as_json:
        print(json.dumps(result), flush=True)
        return
    for k, v in result.items():
        print(f"{k:<18}{'null' if v is None else f'{v:.2f}':>10}")
    print(footer, flush=True)


def cmd_transfer(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="textgan transfer",
        description="Rewrite sentences in another style with a trained style run (raw text in, "
        "detokenised sentence-cased text out; one output line per input line).",
    )
    p.add_argument("run_dir", help="style-transfer run dir")
    p.add_argument("sentences", nargs="*", help="sentences (default: --input FILE or stdin, one per line)")
    p.add_argument(
        "--to",
        default="flip",
        help="target style: one of the run's style names (Yelp: negative, positive; else the data's "
        "styles.txt) or flip, the opposite of what the run's classifier reads (default flip)",
    )
    p.add_argument("--input", default=None, help="input file, one sentence per line")
    p.add_argument("--output", default=None, help="output file (default: stdout)")
    tuned = " (default: the run's tuned decoding, RUN/decoding.json, when it has one; else greedy)"
    p.add_argument("--beam", type=int, default=None, help="beam size (1: greedy)" + tuned)
    p.add_argument("--style-rerank", type=float, default=None, metavar="W", help=RERANK_HELP)
    p.add_argument("--content-rerank", type=float, default=None, metavar="W", help=CONTENT_RERANK_HELP)
    p.add_argument("--content-order", type=int, default=None, metavar="N", help=CONTENT_ORDER_HELP)
    p.add_argument("--style-words", type=float, default=None, metavar="TAU", help=STYLE_WORDS_HELP)
    p.add_argument("--content-slots", action="store_true", default=None, help=SLOTS_HELP)
    p.add_argument("--fluency-rerank", type=finite_float, default=None, metavar="W", help=FLUENCY_HELP)
    p.add_argument("--fluency-lm", default=None, metavar="LM_RUN", help=FLUENCY_LM_HELP)
    p.add_argument("--insert-penalty", type=finite_float, default=None, metavar="W", help=INSERT_HELP)
    p.add_argument("--no-repeat", action="store_true", default=None, help="never write a word twice in a row")
    p.add_argument("--raw-output", action="store_true", help="write the model's tokens, space-separated")
    p.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="bf16: bfloat16 autocast, faster on CPUs with bf16 matmul and on GPUs (near-ties can pick other words)",
    )
    p.add_argument("--batch-size", type=int, default=256, help="sentences decoded together (default 256)")
    p.add_argument("--device", default="cpu")
    a = _parse(p, argv, intermixed=True)
    from textgan.decoding import DECODING_FILE, check_decoding, decoding_flags
    from textgan.runs import StyleRun, load

    # Any decoding flag given: the flags alone decide (transfer's defaults for the rest); none: the run's own.
    flags = (
        "beam",
        "style_rerank",
        "content_rerank",
        "content_order",
        "no_repeat",
        "style_words",
        "content_slots",
        "fluency_rerank",
        "insert_penalty",
    )
    decoding = {k: getattr(a, k) for k in flags if getattr(a, k) is not None}
    lm = {"fluency_lm": a.fluency_lm} if a.fluency_lm else {}  # where the LM is: not a decoding choice
    check_decoding(decoding | lm)
    if a.sentences:
        lines = list(a.sentences)
    elif a.input:
        from textgan.data.corpus import input_lines

        lines = input_lines(Path(a.input), "--input")
    else:
        lines = sys.stdin.read().splitlines()
    run = load(a.run_dir, a.device, task="style")
    assert isinstance(run, StyleRun)
    if not decoding and run.decoding:
        decoding = run.decoding
        print(
            f"decoding: the run's tuned {decoding_flags(decoding)} ({Path(a.run_dir) / DECODING_FILE}); "
            "--beam 1 for greedy",
            file=sys.stderr,
        )
    decoding = decoding | lm
    outputs = run.transfer(
        lines, to=a.to, raw_output=a.raw_output, precision=a.precision, batch_size=a.batch_size, **decoding
    )
    text = "".join(o + "\n" for o in outputs)
    if a.output:
        from textgan.utils import atomic_write_bytes

        atomic_write_bytes(Path(a.output), text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def _flag_value(args: list[str], flag: str) -> str | None:
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _resample_flags(p: argparse.ArgumentParser, several: bool = False) -> None:
    g = p.add_argument_group(
        "resampling (the paper's E-step q ∝ p · exp(A · s) by sampling-importance-resampling)",
        "draw M proposals per sentence and keep one with probability ∝ exp(A · s(x)); s is the run's "
        "critic f or the logit of its ratio discriminator D (textgan train ratio)",
    )
    g.add_argument(
        "--resample", type=int, default=None, metavar="M", help="proposals per sentence (>= 1; default: off)"
    )
    g.add_argument(
        "--resample-with", choices=("critic", "ratio"), default="ratio", help="the score s (default: ratio, D's logit)"
    )
    g.add_argument(
        "--alpha",
        type=_number_list(float),
        default=[1.0],
        metavar="A",
        help="weight A >= 0 of the score (0: plain sampling; 1 with D targets the data)"
        + (" (comma-separated: one frontier point each)" if several else ""),
    )
    g.add_argument(
        "--ratio",
        default=None,
        metavar="DIR[,DIR...]",
        help="where 'train ratio --run-dir DIR' wrote D (default: the run); several, comma-separated: an ensemble "
        "scoring by the mean of their Ds' logits",
    )


def _check_resample_flags(a: argparse.Namespace, several: bool = False) -> None:
    """Refuse bad resampling flags before anything is loaded or written (``sampling.check_resample``)."""
    from textgan.sampling import check_resample

    for alpha in a.alpha:
        try:
            check_resample(1 if a.resample is None else a.resample, alpha)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if len(a.alpha) > 1 and not several:
        raise UserError("--alpha: one value here (several only with eval lm --temperatures)")


def cmd_generate(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="textgan generate", description="Write N sentences from a trained run.")
    p.add_argument("run_dir", help="run directory of 'textgan train lm'")
    p.add_argument("-n", type=int, default=100, help="number of sentences (default 100)")
    p.add_argument("--out", default=None, help="output file (default: stdout)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--temperature", type=float, default=1.0, help="sample from softmax(logits / T) (default 1)")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:i")
    p.add_argument("--batch-size", type=int, default=500, help="sentences per batch")
    _resample_flags(p)
    a = _parse(p, argv)
    from textgan.runs import LMRun, load

    if a.batch_size < 1:
        raise UserError("--batch-size: must be >= 1")
    if a.n < 1:
        raise UserError("-n: must be >= 1")
    if a.temperature <= 0:
        raise UserError(f"--temperature: must be > 0, got {a.temperature:g}")
    _check_resample_flags(a)
    run = load(a.run_dir, a.device, task="lm")
    assert isinstance(run, LMRun)
    lines = run.generate(
        a.n,
        temperature=a.temperature,
        seed=a.seed,
        batch_size=a.batch_size,
        resample=a.resample,
        alpha=a.alpha[0],
        resample_with=a.resample_with,
        ratio_dir=a.ratio,
    )
    text = "\n".join(lines) + "\n"
    if a.out:
        from textgan.utils import atomic_write_bytes

        atomic_write_bytes(Path(a.out), text.encode("utf-8"))
        log.info("wrote %d sentences to %s", len(lines), a.out)
    else:
        sys.stdout.write(text)
    return 0


def cmd_export(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="textgan export",
        description="Write a trained generator where another toolkit reads it: --hf DIR gives a transformers "
        "model directory (gpt2 generators), loadable with pipeline('text-generation', model=DIR).",
    )
    p.add_argument("run_dir", help="run directory of 'textgan train lm'")
    p.add_argument(
        "--hf", required=True, metavar="DIR", help="a new directory for the Hugging Face model and tokenizer"
    )
    a = _parse(p, argv)
    from textgan.hub import export_hf

    out = export_hf(a.run_dir, a.hf)
    log.info("wrote a transformers model and tokenizer to %s (pipeline('text-generation', model=%r))", out, str(out))
    return 0


def _read_sentences(path: str, what: str) -> list[list[str]]:
    from textgan.data.corpus import check_text_file

    check_text_file(Path(path))
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    kept = [ln.split() for ln in lines if ln.strip()]
    if len(kept) < len(lines):
        log.warning("%s %s: skipped %d blank lines", what, path, len(lines) - len(kept))
    return kept


def cmd_eval_lm(argv: list[str]) -> int:

    p = argparse.ArgumentParser(
        prog="textgan eval lm",
        description="BLEU-n, self-BLEU and NLL_gen of generated text "
        "(sentences are whitespace-tokenised, one per line).",
    )
    p.add_argument("--samples", default=None, help="generated sentences, one per line")
    p.add_argument("--references", default=None, help="reference sentences (e.g. the test split)")
    p.add_argument("--ns", default="2,3,4,5", help="BLEU orders, comma-separated (default 2,3,4,5)")
    p.add_argument("--self-bleu", action="store_true", help="also report self-BLEU of the samples")
    p.add_argument("--run", default=None, help="run directory: also report NLL_gen of its generator on the references")
    p.add_argument(
        "--max-hypotheses", type=int, default=None, help="score a seeded subset of this many samples (default: all)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of that subset")
    p.add_argument("--smoothing", default="method1", help="nltk smoothing: method1 (default), method0, method2")
    p.add_argument("--json", action="store_true", help="print one JSON object (per temperature with --temperatures)")
    g = p.add_argument_group(
        "quality-diversity frontier (needs --run; --samples and --references are not used)",
        "sample from softmax(logits / T) at each T and report BLEU-n vs the run's test split, self-BLEU-n, "
        "NLL_test of the tempered model and, on synthetic data, NLL_oracle of the samples",
    )
    g.add_argument("--temperatures", default=None, help="comma-separated T > 0, e.g. 0.7,0.8,0.9,1.0,1.1")
    g.add_argument("--samples-per-point", type=int, default=1000, help="sentences sampled per temperature")
    g.add_argument("--data", default=None, help="the run's corpus directory, if it moved since training")
    g.add_argument("--out", default=None, help="JSONL of the points (default: RUN/frontier.jsonl)")
    g.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:i")
    g.add_argument(
        "--reverse-lm",
        action="store_true",
        help="also report reverse_nll: the test split's NLL under a fresh small LM trained on each point's "
        "samples (coverage of any sampler, resampled ones included)",
    )
    g.add_argument(
        "--lm",
        default=None,
        metavar="LM_RUN",
        help="an LM run trained on the real training split: also report "
        "lm_nll, the samples' NLL under it (quality on real data)",
    )
    _resample_flags(p, several=True)
    a = _parse(p, argv)
    from textgan.metrics.ngrams import bleu, self_bleu

    _check_resample_flags(a, several=True)
    try:
        ns = tuple(int(x) for x in a.ns.split(",") if x.strip())
    except ValueError:
        raise UserError(f"--ns: expected comma-separated integers, got {a.ns!r}") from None
    if not ns or min(ns) < 1:
        raise UserError("--ns: orders must be >= 1")
    if a.temperatures is not None:
        return _eval_frontier(a, ns)
    used = [f for f, v in (("--resample", a.resample), ("--reverse-lm", a.reverse_lm), ("--lm", a.lm)) if v]
    if used:
        raise UserError(f"{', '.join(used)}: frontier options; use them with --run RUN --temperatures T1,T2,...")
    if not a.samples or not a.references:
        raise UserError("--samples FILE and --references FILE are required (or --run RUN --temperatures T1,T2,...)")
    if a.max_hypotheses is not None and a.max_hypotheses < 1:
        raise UserError("--max-hypotheses: must be >= 1")
    hyps = _read_sentences(a.samples, "--samples")
    refs = _read_sentences(a.references, "--references")
    try:
        out: dict[str, float] = bleu(
            hyps, refs, ns, max_hypotheses=a.max_hypotheses, seed=a.seed, smoothing=a.smoothing
        )
        if a.self_bleu:
            out.update(self_bleu(hyps, ns, max_hypotheses=a.max_hypotheses, seed=a.seed, smoothing=a.smoothing))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if a.run:
        from textgan.metrics.nll import nll_gen
        from textgan.runs import load_lm_run

        gen, vocab, tokenizer, _ = load_lm_run(a.run)
        text = [s for s in Path(a.references).read_text(encoding="utf-8").splitlines() if s.strip()]
        out["nll_gen"] = nll_gen(gen, text, vocab=vocab, tokenizer=tokenizer)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{'metric':<14}{'value':>10}")
        for k, v in out.items():
            print(f"{k:<14}{v:>10.4f}")
        print(f"({len(hyps)} samples, {len(refs)} references{'; nll_gen is per token' if a.run else ''})")
    return 0


def _eval_frontier(a: argparse.Namespace, ns: tuple[int, ...]) -> int:
    """``eval lm --run RUN --temperatures ...``: one JSON object per temperature."""
    from textgan.metrics.temperature import evaluate_frontier, parse_temperatures
    from textgan.utils import atomic_write_bytes

    if not a.run:
        raise UserError("--temperatures needs --run RUN_DIR (the model to sweep)")
    try:
        temps = parse_temperatures(a.temperatures)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if a.samples or a.references:
        log.warning("--samples / --references are not used with --temperatures (the run's own test split is)")
    sweep = evaluate_frontier(
        a.run,
        temps,
        a.samples_per_point,
        a.seed,
        ns,
        data=a.data,
        device=a.device,
        resample=a.resample,
        alphas=a.alpha,
        resample_with=a.resample_with,
        ratio_dir=a.ratio,
        reverse_lm=a.reverse_lm,
        lm=a.lm,
    )
    points = []
    for point in sweep:
        points.append(point)
        if a.json:
            print(json.dumps(point), flush=True)
        else:
            skip = ("temperature", "samples", "resample", "alpha")
            shown = "  ".join(f"{k}={v:.4f}" for k, v in point.items() if k not in skip)
            at = f"  A={point['alpha']:<4g}" if "alpha" in point else ""
            print(f"T={point['temperature']:<5g}{at} {shown}", flush=True)
    out = Path(a.out) if a.out else Path(a.run) / "frontier.jsonl"
    atomic_write_bytes(out, "".join(json.dumps(q) + "\n" for q in points).encode("utf-8"))
    if not a.json:
        how = f"resampled from {a.resample} proposals each by the {a.resample_with}; " if a.resample else ""
        print(f"({a.samples_per_point} samples per point, {how}seed {a.seed}; points in {out})")
    return 0


def cmd_plot(argv: list[str]) -> int:

    p = argparse.ArgumentParser(
        prog="textgan plot",
        description="Write PNG curves of a run's metrics.jsonl, or (--frontier) the quality-diversity "
        "frontier of one or more runs in one figure.",
    )
    p.add_argument("run_dir", nargs="?", help="run directory (curves of its metrics.jsonl)")
    p.add_argument(
        "--frontier",
        nargs="+",
        metavar="RUN",
        help="run dirs (their frontier.jsonl from 'textgan eval lm --temperatures') or frontier JSONL files",
    )
    p.add_argument("--labels", default=None, help="comma-separated legend names (default: the run dirs' names)")
    p.add_argument("--order", type=int, default=4, help="BLEU order of the real-data frontier (default 4)")
    p.add_argument("--title", default=None, help="figure title")
    p.add_argument(
        "--x", default=None, help="with --frontier: the x key of the points (default nll_oracle, or bleu<order>)"
    )
    p.add_argument(
        "--y",
        default=None,
        help="with --frontier: the y key (default nll_test, or self_bleu<order>; reverse_nll holds every sampler)",
    )
    p.add_argument("--out", default=None, help="output folder (default: RUN_DIR/plots); with --frontier the PNG file")
    a = _parse(p, argv)
    from textgan.plot import plot_frontier, plot_run

    if a.frontier:
        if a.run_dir:
            raise UserError("give either RUN_DIR or --frontier RUN [RUN ...], not both")
        if not a.out:
            raise UserError("--frontier needs --out FILE.png")
        labels = [x.strip() for x in a.labels.split(",")] if a.labels else None
        print(plot_frontier(a.frontier, a.out, labels, a.order, a.title, a.x, a.y))
        return 0
    if not a.run_dir:
        raise UserError("give a RUN_DIR, or --frontier RUN [RUN ...] --out FILE.png")
    for path in plot_run(a.run_dir, a.out):
        print(path)
    return 0


def _parse(parser: argparse.ArgumentParser, argv: list[str], intermixed: bool = False) -> argparse.Namespace:
    """argparse with its errors turned into UserError (one line, exit 2).

    ``intermixed``: options may come before, between or after positional arguments
    (``transfer RUN --to positive "a sentence"``).
    """

    def fail(message: str) -> None:
        raise UserError(message)

    parser.error = fail  # type: ignore[method-assign]
    for action in parser._actions:  # every float flag of every command refuses NaN and infinity
        if action.type is float:
            action.type = finite_float
    return parser.parse_intermixed_args(argv) if intermixed else parser.parse_args(argv)


COMMANDS = {
    ("train", "lm"): cmd_train_lm,
    ("train", "classifier"): cmd_train_classifier,
    ("train", "ratio"): cmd_train_ratio,
    ("train", "style"): cmd_train_style,
    ("eval", "style"): cmd_eval_style,
    ("transfer",): cmd_transfer,
    ("generate",): cmd_generate,
    ("eval", "lm"): cmd_eval_lm,
    ("plot",): cmd_plot,
    ("export",): cmd_export,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``textgan`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    setup_logging(debug)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        from textgan import __version__

        print(f"textgan {__version__}")
        return 0
    key = next((k for k in COMMANDS if tuple(args[: len(k)]) == k), None)
    if key is None:
        known = ", ".join(" ".join(k) for k in COMMANDS)
        return _die(f"unknown command {' '.join(args[:2])!r} (commands: {known})")
    fn, rest = COMMANDS[key], args[len(key) :]
    try:
        return fn(rest)
    except UserError as exc:
        if debug:
            raise
        return _die(str(exc))
    except FloatingPointError as exc:
        if debug:
            raise
        return _die(f"{exc}; the last good checkpoint is kept")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (textgan ... --help | head): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it
    except OSError as exc:
        import errno

        if debug or exc.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        return _die(
            f"no space left on the device{where}; the files written before are intact (free space, then --resume)"
        )
    except Exception as exc:
        from textgan.train.lm import TrainingInterrupted

        if isinstance(exc, TrainingInterrupted):
            if _main_process():
                print(str(exc), file=sys.stderr)
            return 130
        from textgan.distributed import collective_failure

        problem = None if debug else collective_failure(exc)
        if problem:
            return _die(problem)
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
