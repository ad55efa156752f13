"""Every configuration dataclass, the presets, and JSON load/save.

Flags are generated from these fields by ``tyro`` (see ``cli.py``): each field's
``help`` metadata is its only description. Sub-configs are flattened, so a field
``clip_eps`` of any component is the flag ``--clip-eps``. Precedence:
defaults < ``--preset NAME`` < ``--config run.json`` < explicit flags.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FORMAT_VERSION = 1


def _help(text: str) -> dict[str, str]:
    return {"help": text}


def _check(cond: bool, flag: str, why: str) -> None:
    if not cond:
        raise ValueError(f"{flag}: {why}")


@dataclass(frozen=True)
class DataConfig:
    """Where the text comes from and how it is tokenised."""

    data: str = field(
        default="oracle",
        metadata=_help(
            "corpus: 'oracle' (synthetic LSTM oracle), a directory with train.txt and "
            "test.txt, or a datasets hub name (needs internet)"
        ),
    )
    tokenizer: Literal["space", "nltk", "spm", "hf"] = field(
        default="space",
        metadata=_help(
            "space: split on whitespace; nltk: NLTK word tokenizer (no punkt); spm: SentencePiece; "
            "hf: the tokenizer of --hf-model (what --generator hf uses, whatever this says)"
        ),
    )
    lowercase: bool = field(default=False, metadata=_help("lowercase text before tokenising"))
    spm_vocab_size: int = field(default=8000, metadata=_help("SentencePiece vocabulary size (--tokenizer spm)"))
    max_len: int = field(
        default=0,
        metadata=_help("cap on tokens per sentence (0: the longest training sentence); longer ones are truncated"),
    )
    min_freq: int = field(default=1, metadata=_help("training tokens seen fewer times become <unk>"))
    max_train_sentences: int = field(default=0, metadata=_help("use only the first N training sentences (0: all)"))
    max_test_sentences: int = field(default=0, metadata=_help("use only the first N test sentences (0: all)"))
    oracle_vocab_size: int = field(default=5000, metadata=_help("oracle: vocabulary size"))
    oracle_hidden_dim: int = field(default=32, metadata=_help("oracle: LSTM hidden and embedding size"))
    oracle_len: int = field(default=20, metadata=_help("oracle: sentence length"))
    oracle_train_size: int = field(default=10000, metadata=_help("oracle: number of training sentences"))
    oracle_test_size: int = field(default=2000, metadata=_help("oracle: number of held-out sentences"))
    oracle_seed: int = field(default=88, metadata=_help("oracle: seed of its weights and its data"))

    def __post_init__(self) -> None:
        _check(self.spm_vocab_size >= 8, "--spm-vocab-size", "must be >= 8")
        _check(self.max_len >= 0, "--max-len", "must be >= 0")
        _check(self.min_freq >= 1, "--min-freq", "must be >= 1")
        _check(self.max_train_sentences >= 0, "--max-train-sentences", "must be >= 0")
        _check(self.max_test_sentences >= 0, "--max-test-sentences", "must be >= 0")
        _check(self.oracle_vocab_size >= 2, "--oracle-vocab-size", "must be >= 2")
        _check(self.oracle_hidden_dim >= 1, "--oracle-hidden-dim", "must be >= 1")
        _check(self.oracle_len >= 1, "--oracle-len", "must be >= 1")
        _check(self.oracle_train_size >= 1, "--oracle-train-size", "must be >= 1")
        _check(self.oracle_test_size >= 1, "--oracle-test-size", "must be >= 1")


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator architecture (sizes default to RelGAN's)."""

    generator: Literal["rmc", "lstm", "gpt2", "hf"] = field(
        default="rmc",
        metadata=_help(
            "architecture: relational memory core, LSTM, GPT-2-style Transformer, or hf: a pretrained "
            "Hugging Face causal LM (--hf-model) with its own tokenizer"
        ),
    )
    hf_model: str = field(
        default="",
        metadata=_help(
            "--generator hf: a transformers AutoModelForCausalLM, as a local directory or a hub name "
            "(needs internet); its tokenizer replaces the word vocabulary"
        ),
    )
    embed_dim: int = field(default=32, metadata=_help("token embedding size"))
    hidden_dim: int = field(default=32, metadata=_help("LSTM hidden size (--generator lstm)"))
    mem_slots: int = field(default=1, metadata=_help("RMC memory slots"))
    num_heads: int = field(default=2, metadata=_help("RMC / GPT-2 attention heads"))
    head_size: int = field(default=256, metadata=_help("RMC / GPT-2 size per attention head"))
    num_layers: int = field(default=2, metadata=_help("GPT-2 layers"))

    def __post_init__(self) -> None:
        _check(self.generator != "hf" or bool(self.hf_model), "--generator hf", "needs --hf-model NAME_OR_DIR")
        _check(self.generator == "hf" or not self.hf_model, "--hf-model", "needs --generator hf")
        for name in ("embed_dim", "hidden_dim", "mem_slots", "num_heads", "head_size", "num_layers"):
            _check(getattr(self, name) >= 1, "--" + name.replace("_", "-"), "must be >= 1")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of both phases."""

    batch_size: int = field(default=64, metadata=_help("sentences per batch"))
    mle_epochs: int = field(default=150, metadata=_help("MLE pretraining epochs"))
    mle_lr: float = field(default=1e-2, metadata=_help("Adam learning rate for MLE pretraining"))
    grad_clip: float = field(default=5.0, metadata=_help("gradient-norm clip (0: off)"))

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, "--batch-size", "must be >= 1")
        _check(self.mle_epochs >= 0, "--mle-epochs", "must be >= 0")
        _check(self.mle_lr > 0, "--mle-lr", "must be > 0")
        _check(self.grad_clip >= 0, "--grad-clip", "must be >= 0")


@dataclass(frozen=True)
class CriticConfig:
    """Critic / discriminator architecture (RelGAN sizes by default)."""

    critic_embed_dim: int = field(default=64, metadata=_help("critic embedding size (split over representations)"))
    num_rep: int = field(default=64, metadata=_help("critic: parallel embedding representations"))
    filter_sizes: tuple[int, ...] = field(default=(2, 3, 4, 5), metadata=_help("critic: convolution widths"))
    num_filters: int = field(default=300, metadata=_help("critic: filters per width"))
    critic_dropout: float = field(default=0.25, metadata=_help("critic: dropout before the output MLP"))

    def __post_init__(self) -> None:
        if self.critic_embed_dim < 1 or self.num_rep < 1 or self.critic_embed_dim % self.num_rep:
            raise ValueError("--critic-embed-dim: must be a positive multiple of --num-rep")
        if not self.filter_sizes or min(self.filter_sizes) < 1:
            raise ValueError("--filter-sizes: widths must be >= 1")
        if self.num_filters < 1:
            raise ValueError("--num-filters: must be >= 1")
        if not 0 <= self.critic_dropout < 1:
            raise ValueError("--critic-dropout: must be in [0, 1)")


LOSSES = ("ppo", "wgan-gp", "rsgan", "standard", "hinge")
RATIOS = ("exact", "discriminator")
CLIP_RULES = ("paper", "ppo")
PRECISION_HELP = (
    "fp32, or bf16: training's forward passes under bfloat16 autocast (CPUs with AVX-512 BF16 or AMX, and "
    "CUDA); weights, optimiser state, losses, checkpoints and every evaluation stay fp32"
)
COMPILE_HELP = (
    "torch.compile the critics' max-pool argmax search into one fused kernel (CPU: needs a C++ compiler; "
    "CUDA: Triton); about 20 s of compiling at the start; without a compiler, one warning and the eager path"
)
ADVANTAGES = ("raw", "centered", "normalized")
RATIO_LEVELS = ("sequence", "token")
CRITIC_INPUTS = ("soft", "hard")
NORMALIZERS = ("nltk", "space")  # text normalisation of the style task (data/text.py)


@dataclass(frozen=True)
class AdvConfig:
    """The adversarial phase (PAPER.md): losses, ratio clipping, reweighting, schedule."""

    adv_steps: int = field(default=0, metadata=_help("adversarial iterations after MLE pretraining (0: MLE only)"))
    loss: Literal["ppo", "wgan-gp", "rsgan", "standard", "hinge"] = field(
        default="ppo",
        metadata=_help("ppo: clipped ratio + sample reweighting (the paper); wgan-gp, rsgan (RelGAN), standard, hinge"),
    )
    ratio: Literal["exact", "discriminator"] = field(
        default="exact",
        metadata=_help(
            "ppo ratio p_theta/p_theta_old: exact (teacher-forced log-probs) or discriminator (the paper's D)"
        ),
    )
    reweight: bool = field(
        default=True, metadata=_help("ppo: reweight fake samples in the critic loss by B*softmax(f)")
    )
    clip: bool = field(default=True, metadata=_help("ppo: clip the probability ratio"))
    clip_eps: float = field(default=0.4, metadata=_help("ppo: clipping epsilon"))
    # Defaults chosen by the oracle study (README, "The method study"): with the paper's lr the
    # textbook rule and a centred advantage are at least as good on the frontier, and keep r bounded.
    clip_rule: Literal["paper", "ppo"] = field(
        default="ppo",
        metadata=_help(
            "ppo: ppo = textbook PPO (min everywhere); paper = the official code's rule (min where A > 0, "
            "max where A <= 0; no lower bound on r for A <= 0)"
        ),
    )
    advantage: Literal["raw", "centered", "normalized"] = field(
        default="centered",
        metadata=_help(
            "ppo: advantage from the critic score f: raw A = f; centered f - batch mean; "
            "normalized (f - mean) / std (mean and std held constant)"
        ),
    )
    ratio_level: Literal["sequence", "token"] = field(
        default="sequence",
        metadata=_help(
            "ppo --ratio exact: one ratio per sentence, or per-token ratios clipped per token "
            "with the sentence's advantage"
        ),
    )
    n_critic: int = field(default=5, metadata=_help("critic updates per adversarial iteration"))
    g_steps: int = field(
        default=5, metadata=_help("generator updates per iteration (ppo: against one frozen theta_old)")
    )
    gp_weight: float = field(default=5.0, metadata=_help("gradient-penalty weight (ppo, wgan-gp)"))
    gp_every: int = field(
        default=1,
        metadata=_help(
            "lazy gradient penalty: apply it (times k) on every k-th critic update only, as StyleGAN2 does (1: always)"
        ),
    )
    beta_max: float = field(default=100.0, metadata=_help("final Gumbel-softmax inverse temperature"))
    beta_schedule: Literal["exp", "lin", "none"] = field(
        default="exp", metadata=_help("beta annealing from 1 to --beta-max: exp, lin, or none (constant beta_max)")
    )
    adv_lr: float = field(default=1e-4, metadata=_help("Adam learning rate of generator, critic and D"))
    critic_lr: float = field(default=0.0, metadata=_help("Adam learning rate of the critic and D (0: --adv-lr)"))
    critic_warmup: int = field(
        default=0,
        metadata=_help("critic updates on the starting generator before the first adversarial iteration (LM task)"),
    )
    critic_warmup_auc: float = field(
        default=0.0,
        metadata=_help(
            "end the critic warm-up early once the critic's AUC between 512 training sentences and 512 fresh "
            "samples reaches this (checked every 50 updates; 0: all --critic-warmup updates)"
        ),
    )
    critic_input: Literal["soft", "hard"] = field(
        default="soft",
        metadata=_help(
            "what the critic sees of generated text: soft = the Gumbel-softmax rows (the paper); hard = the "
            "sampled tokens, as it is judged (critic_auc), with the generator's gradient through "
            "straight-through rows (LM task)"
        ),
    )
    cold_temperature: float = field(
        default=1.0,
        metadata=_help(
            "ppo --ratio exact: draw the generator's samples at this temperature T (ColdGAN: T < 1, "
            "near the modes) and clip the importance weight p_theta / p_theta_old,T instead of "
            "p_theta / p_theta_old; 1 = the paper (LM task)"
        ),
    )
    adv_eval_every: int = field(default=100, metadata=_help("evaluate every N adversarial iterations (and at the end)"))

    def __post_init__(self) -> None:
        _check(self.adv_steps >= 0, "--adv-steps", "must be >= 0")
        _check(
            math.isfinite(self.cold_temperature) and self.cold_temperature > 0,
            "--cold-temperature",
            "must be a finite number > 0",
        )
        _check(
            self.cold_temperature == 1.0 or (self.loss == "ppo" and self.ratio == "exact"),
            "--cold-temperature",
            "needs --loss ppo --ratio exact (the importance weight is the exact ratio)",
        )
        _check(
            self.critic_input in CRITIC_INPUTS, "--critic-input", f"unknown value {self.critic_input!r} (soft, hard)"
        )
        _check(self.loss in LOSSES, "--loss", f"unknown loss {self.loss!r} (choose from {', '.join(LOSSES)})")
        _check(self.ratio in RATIOS, "--ratio", f"unknown ratio {self.ratio!r} (choose from {', '.join(RATIOS)})")
        _check(self.clip_eps > 0, "--clip-eps", "must be > 0")
        for flag, value, choices in (
            ("--clip-rule", self.clip_rule, CLIP_RULES),
            ("--advantage", self.advantage, ADVANTAGES),
            ("--ratio-level", self.ratio_level, RATIO_LEVELS),
        ):
            _check(value in choices, flag, f"unknown value {value!r} ({', '.join(choices)})")
        _check(
            self.ratio_level == "sequence" or self.ratio == "exact",
            "--ratio-level",
            "token needs --ratio exact (the discriminator gives one ratio per sentence)",
        )
        _check(self.n_critic >= 1, "--n-critic", "must be >= 1")
        _check(self.g_steps >= 1, "--g-steps", "must be >= 1")
        _check(self.gp_weight >= 0, "--gp-weight", "must be >= 0")
        _check(self.gp_every >= 1, "--gp-every", "must be >= 1")
        _check(self.beta_max >= 1, "--beta-max", "must be >= 1")
        _check(self.adv_lr > 0, "--adv-lr", "must be > 0")
        _check(self.critic_lr >= 0, "--critic-lr", "must be >= 0")
        _check(self.critic_warmup >= 0, "--critic-warmup", "must be >= 0")
        _check(0 <= self.critic_warmup_auc < 1, "--critic-warmup-auc", "must be in [0, 1)")
        _check(
            not self.critic_warmup_auc or self.critic_warmup > 0,
            "--critic-warmup-auc",
            "needs --critic-warmup N, the most warm-up updates",
        )
        _check(self.adv_eval_every >= 1, "--adv-eval-every", "must be >= 1")

    @property
    def critic_learning_rate(self) -> float:
        """The Adam learning rate of the critic and D: ``critic_lr``, or ``adv_lr`` when it is 0."""
        return self.critic_lr or self.adv_lr


@dataclass(frozen=True)
class EvalConfig:
    """Periodic evaluation during training."""

    eval_every: int = field(default=10, metadata=_help("evaluate every N MLE epochs (and at the end)"))
    eval_samples: int = field(default=1000, metadata=_help("generated sentences scored per evaluation"))
    bleu_ns: tuple[int, ...] = field(default=(2, 3, 4, 5), metadata=_help("BLEU orders to report"))
    self_bleu: bool = field(default=True, metadata=_help("report self-BLEU of the generated sentences"))
    bleu_references: int = field(default=0, metadata=_help("test sentences used as BLEU references (0: all)"))
    show_samples: int = field(default=3, metadata=_help("samples printed to the log per evaluation"))

    def __post_init__(self) -> None:
        _check(self.eval_every >= 1, "--eval-every", "must be >= 1")
        _check(self.eval_samples >= 2, "--eval-samples", "must be >= 2")
        _check(len(self.bleu_ns) > 0 and all(n >= 1 for n in self.bleu_ns), "--bleu-ns", "orders must be >= 1")
        _check(self.bleu_references >= 0, "--bleu-references", "must be >= 0")


@dataclass(frozen=True)
class LMConfig:
    """Root config of ``textgan train lm``: run-wide fields plus one sub-config each."""

    data: DataConfig = field(default_factory=DataConfig)
    model: GeneratorConfig = field(default_factory=GeneratorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    adv: AdvConfig = field(default_factory=AdvConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    init_from: str = field(
        default="",
        metadata=_help(
            "start from the generator of this run dir, on its corpus unless --data is given (skips MLE pretraining)"
        ),
    )
    run_dir: str = field(default="", metadata=_help("output directory (default: runs/lm-<time>)"))
    seed: int = field(default=0, metadata=_help("seed of everything random in the run"))
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda or cuda:i"))
    precision: Literal["fp32", "bf16"] = field(default="fp32", metadata=_help(PRECISION_HELP))
    compile: bool = field(default=False, metadata=_help(COMPILE_HELP))
    progress: bool = field(default=True, metadata=_help("show progress bars (only on a terminal)"))
    tensorboard: bool = field(
        default=False,
        metadata=_help("also log every metrics record as TensorBoard scalars in RUN/tensorboard (needs tensorboard)"),
    )


PRESETS: dict[str, LMConfig] = {
    # A whole run in seconds; used by the tests.
    "smoke": LMConfig(
        data=DataConfig(
            oracle_vocab_size=50,
            oracle_len=8,
            oracle_train_size=128,
            oracle_test_size=32,
            max_train_sentences=256,
            max_test_sentences=64,
            max_len=16,
        ),
        model=GeneratorConfig(embed_dim=8, hidden_dim=16, head_size=8, num_layers=1),
        critic=CriticConfig(critic_embed_dim=8, num_rep=4, filter_sizes=(2, 3), num_filters=8),
        adv=AdvConfig(adv_steps=3, n_critic=2, g_steps=2, adv_eval_every=2, beta_max=10.0),
        train=TrainConfig(batch_size=16, mle_epochs=2),
        eval=EvalConfig(eval_every=1, eval_samples=32),
    ),
    # SeqGAN/RelGAN synthetic setting, sized to finish in minutes on 2 CPU cores.
    "oracle": LMConfig(
        model=GeneratorConfig(head_size=64),
        critic=CriticConfig(num_filters=64),
        train=TrainConfig(mle_epochs=3),
        adv=AdvConfig(adv_steps=20, adv_eval_every=10),
        eval=EvalConfig(eval_every=3, eval_samples=1000),
    ),
    # RelGAN paper settings for MS-COCO captions (NLTK-tokenised, lowercased).
    "coco": LMConfig(
        data=DataConfig(data="coco", tokenizer="nltk", lowercase=True),
        adv=AdvConfig(adv_steps=3000),
        train=TrainConfig(mle_epochs=150),
        eval=EvalConfig(eval_every=10),
    ),
    # RelGAN paper settings for EMNLP2017 WMT News.
    "emnlp": LMConfig(
        data=DataConfig(data="emnlp_news", tokenizer="nltk", lowercase=True),
        adv=AdvConfig(adv_steps=2000),
        train=TrainConfig(mle_epochs=150),
        eval=EvalConfig(eval_every=10),
    ),
}
DEFAULT_PRESET = "oracle"


# Fields whose default changed: their value for configs saved before they existed.
LEGACY_DEFAULTS: dict[str, dict[str, Any]] = {
    "AdvConfig": {"clip_rule": "paper", "advantage": "raw"},
    "StyleDataConfig": {"normalize": "space", "lowercase": False},
}


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config as a plain JSON-able dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config dataclass from ``to_dict`` output.

    Unknown keys are an error so that a config from another task or a newer
    version is not silently half-read.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    hints = typing.get_type_hints(cls)
    # A config written before a field existed keeps the behaviour it was trained with.
    data = {**LEGACY_DEFAULTS.get(cls.__name__, {}), **data}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if dataclasses.is_dataclass(hints[name]):
            kwargs[name] = from_dict(hints[name], value)
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def save_json(cfg: Any, path: str | Path) -> None:
    """Write a config as indented JSON."""
    Path(path).write_text(json.dumps(to_dict(cfg), indent=2) + "\n", encoding="utf-8")


def load_json(cls: type, path: str | Path) -> Any:
    """Read a config written by ``save_json``."""
    return from_dict(cls, json.loads(Path(path).read_text(encoding="utf-8")))


# -- style classifier (``textgan train classifier``) ---------------------------------------------


@dataclass(frozen=True)
class StyleDataConfig:
    """A style directory: train/dev/test.{0,1}, optional reference.{0,1} and multi_ref/."""

    data: str = field(
        default="", metadata=_help("style directory (train.0, train.1, dev.*, test.*, optional styles.txt)")
    )
    normalize: str = field(
        default="nltk",
        metadata=_help(
            "text normalisation of training, evaluation and transfer input: nltk (NFKC, straight quotes, "
            "NLTK/PTB word tokens; maps tokenised Yelp text to itself) or space (whitespace split only)"
        ),
    )
    lowercase: bool = field(default=True, metadata=_help("lowercase text before tokenising"))
    max_len: int = field(default=0, metadata=_help("cap on tokens per sentence (0: the longest training sentence)"))
    min_freq: int = field(default=1, metadata=_help("training tokens seen fewer times become <unk>"))
    max_train_sentences: int = field(
        default=0, metadata=_help("use only the first N training sentences of each style (0: all)")
    )

    def __post_init__(self) -> None:
        _check(self.normalize in NORMALIZERS, "--normalize", f"must be one of {', '.join(NORMALIZERS)}")
        _check(self.max_len >= 0, "--max-len", "must be >= 0")
        _check(self.min_freq >= 1, "--min-freq", "must be >= 1")
        _check(self.max_train_sentences >= 0, "--max-train-sentences", "must be >= 0")


@dataclass(frozen=True)
class ClassifierModelConfig:
    """TextCNN style classifier."""

    clf_embed_dim: int = field(default=128, metadata=_help("classifier embedding size"))
    clf_filter_sizes: tuple[int, ...] = field(default=(3, 4, 5), metadata=_help("classifier convolution widths"))
    clf_filters: int = field(default=128, metadata=_help("classifier filters per width"))
    clf_dropout: float = field(default=0.5, metadata=_help("classifier dropout before the output layer"))

    def __post_init__(self) -> None:
        _check(self.clf_embed_dim >= 1, "--clf-embed-dim", "must be >= 1")
        _check(len(self.clf_filter_sizes) > 0 and min(self.clf_filter_sizes) >= 1, "--clf-filter-sizes", "must be >= 1")
        _check(self.clf_filters >= 1, "--clf-filters", "must be >= 1")
        _check(0 <= self.clf_dropout < 1, "--clf-dropout", "must be in [0, 1)")


@dataclass(frozen=True)
class ClassifierTrainConfig:
    """Optimisation of the style classifier."""

    batch_size: int = field(default=64, metadata=_help("sentences per batch"))
    epochs: int = field(default=3, metadata=_help("training epochs"))
    lr: float = field(default=1e-3, metadata=_help("Adam learning rate"))
    grad_clip: float = field(default=5.0, metadata=_help("gradient-norm clip (0: off)"))

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, "--batch-size", "must be >= 1")
        _check(self.epochs >= 1, "--epochs", "must be >= 1")
        _check(self.lr > 0, "--lr", "must be > 0")
        _check(self.grad_clip >= 0, "--grad-clip", "must be >= 0")


@dataclass(frozen=True)
class ClassifierConfig:
    """Root config of ``textgan train classifier`` (the separate style evaluator)."""

    data: StyleDataConfig = field(default_factory=StyleDataConfig)
    model: ClassifierModelConfig = field(default_factory=ClassifierModelConfig)
    train: ClassifierTrainConfig = field(default_factory=ClassifierTrainConfig)
    run_dir: str = field(default="", metadata=_help("output directory (default: runs/classifier-<time>)"))
    seed: int = field(default=0, metadata=_help("seed of everything random in the run"))
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda or cuda:i"))
    progress: bool = field(default=True, metadata=_help("show progress bars (only on a terminal)"))


CLASSIFIER_PRESETS: dict[str, ClassifierConfig] = {
    "smoke": ClassifierConfig(
        model=ClassifierModelConfig(clf_embed_dim=16, clf_filter_sizes=(2, 3), clf_filters=8),
        train=ClassifierTrainConfig(batch_size=8, epochs=2),
    ),
    "yelp": ClassifierConfig(train=ClassifierTrainConfig(epochs=3)),
}


@dataclass(frozen=True)
class StyleModelConfig:
    """Style-transfer encoder/decoder (Hu et al. 2017 line): GRU encoder, style embedding, attention GRU decoder."""

    st_embed_dim: int = field(default=128, metadata=_help("style model: token embedding size"))
    st_hidden_dim: int = field(default=256, metadata=_help("style model: GRU hidden size (content code z)"))
    st_style_dim: int = field(default=64, metadata=_help("style model: style embedding size"))
    st_style_mask: float = field(
        default=0.0,
        metadata=_help(
            "style model: the encoder reads the source's style words as one learned mask embedding, so the "
            "decoder learns to fill their slots in the target style (substitution, not insertion): words whose "
            "training count in the source style, plus 1, is at least GAMMA times their count in the other, plus 1 "
            "(Li et al. 2018's salience, unigrams; about 10 on Yelp); 0: off"
        ),
    )
    st_mask_hint: str = field(
        default="",
        metadata=_help(
            "style model, with --st-style-mask: a word-level LM run (textgan train lm) whose output embeddings "
            "tell the encoder which word each mask hides, less the direction that separates the two styles' "
            "words (such embeddings put antonyms close: worse / better), so the decoder can fill the slot with "
            "the target style's counterpart; the table is stored in the model; empty: off"
        ),
    )
    st_mask_hint_clusters: int = field(
        default=32,
        metadata=_help(
            "with --st-mask-hint: the hint names one of K clusters of style words (of both styles), "
            "not the word itself, which the decoder learns to copy back; 0: one hint per word"
        ),
    )

    def __post_init__(self) -> None:
        for name in ("st_embed_dim", "st_hidden_dim", "st_style_dim"):
            _check(getattr(self, name) >= 1, "--" + name.replace("_", "-"), "must be >= 1")
        _check(
            self.st_style_mask == 0 or (math.isfinite(self.st_style_mask) and self.st_style_mask > 1),
            "--st-style-mask",
            "must be 0 (off) or a salience ratio above 1",
        )
        _check(not self.st_mask_hint or self.st_style_mask > 0, "--st-mask-hint", "needs --st-style-mask GAMMA")
        _check(self.st_mask_hint_clusters >= 0, "--st-mask-hint-clusters", "must be >= 0")


@dataclass(frozen=True)
class StyleTrainConfig:
    """Optimisation and loss weights of the style-transfer task."""

    batch_size: int = field(default=64, metadata=_help("sentences per batch"))
    ae_steps: int = field(default=2000, metadata=_help("autoencoder pretraining updates"))
    ae_lr: float = field(default=1e-3, metadata=_help("Adam learning rate of autoencoder pretraining"))
    grad_clip: float = field(default=5.0, metadata=_help("gradient-norm clip (0: off)"))
    style_weight: float = field(default=1.0, metadata=_help("weight of the style classifier term on transfers"))
    adv_weight: float = field(
        default=0.1,
        metadata=_help(
            "weight of the adversarial (critic) term on transfers (0: no critic is trained or consulted, "
            "the no-adversarial ablation)"
        ),
    )
    cycle_weight: float = field(default=0.0, metadata=_help("weight of back-transfer reconstruction (0: off)"))
    anchor_weight: float = field(
        default=0.0,
        metadata=_help(
            "trust-region anchor: weight of KL(decoder || decoder at the start of the adversarial phase) "
            "per token of the transfers, which keeps the decoder's language near the autoencoder's (0: off)"
        ),
    )
    word_drop: float = field(
        default=0.0,
        metadata=_help(
            "denoising: drop each source word from the encoder's input with this probability when "
            "learning to reconstruct (autoencoder and adversarial phases; 0: off)"
        ),
    )
    eval_sentences: int = field(
        default=0, metadata=_help("test sentences per style transferred in evaluations (0: all)")
    )

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, "--batch-size", "must be >= 1")
        _check(self.ae_steps >= 0, "--ae-steps", "must be >= 0")
        _check(self.ae_lr > 0, "--ae-lr", "must be > 0")
        _check(self.grad_clip >= 0, "--grad-clip", "must be >= 0")
        for name in ("style_weight", "adv_weight", "cycle_weight", "anchor_weight"):
            _check(getattr(self, name) >= 0, "--" + name.replace("_", "-"), "must be >= 0")
        _check(self.eval_sentences >= 0, "--eval-sentences", "must be >= 0")
        _check(0 <= self.word_drop < 1, "--word-drop", "must be in [0, 1)")


@dataclass(frozen=True)
class StyleConfig:
    """Root config of ``textgan train style``."""

    data: StyleDataConfig = field(default_factory=StyleDataConfig)
    model: StyleModelConfig = field(default_factory=StyleModelConfig)
    critic: CriticConfig = field(default_factory=lambda: CriticConfig(num_filters=64))
    classifier: ClassifierModelConfig = field(default_factory=ClassifierModelConfig)
    # Style transfer keeps the paper's clip rule and raw advantage: the LM study's choice is not
    # measured on this task yet.
    adv: AdvConfig = field(
        default_factory=lambda: AdvConfig(adv_steps=2000, beta_max=10.0, clip_rule="paper", advantage="raw")
    )
    train: StyleTrainConfig = field(default_factory=StyleTrainConfig)
    eval_classifier: str = field(
        default="", metadata=_help("evaluator classifier run dir, scored in periodic evaluations (optional)")
    )
    init_from: str = field(
        default="",
        metadata=_help(
            "start from the model and style classifier of this style run dir (its vocabulary and sizes; "
            "skips autoencoder pretraining)"
        ),
    )
    run_dir: str = field(default="", metadata=_help("output directory (default: runs/style-<time>)"))
    seed: int = field(default=0, metadata=_help("seed of everything random in the run"))
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda or cuda:i"))
    precision: Literal["fp32", "bf16"] = field(default="fp32", metadata=_help(PRECISION_HELP))
    compile: bool = field(default=False, metadata=_help(COMPILE_HELP))
    progress: bool = field(default=True, metadata=_help("show progress bars (only on a terminal)"))
    tensorboard: bool = field(
        default=False,
        metadata=_help("also log every metrics record as TensorBoard scalars in RUN/tensorboard (needs tensorboard)"),
    )


STYLE_PRESETS: dict[str, StyleConfig] = {
    "smoke": StyleConfig(
        model=StyleModelConfig(st_embed_dim=8, st_hidden_dim=16, st_style_dim=4),
        critic=CriticConfig(critic_embed_dim=8, num_rep=4, filter_sizes=(2, 3), num_filters=8),
        classifier=ClassifierModelConfig(clf_embed_dim=8, clf_filter_sizes=(2, 3), clf_filters=8),
        adv=AdvConfig(
            adv_steps=4, n_critic=2, g_steps=2, adv_eval_every=2, beta_max=5.0, clip_rule="paper", advantage="raw"
        ),
        train=StyleTrainConfig(batch_size=8, ae_steps=6),
    ),
    "yelp": StyleConfig(data=StyleDataConfig(max_len=20)),
}


# -- configs from code ---------------------------------------------------------------------------------


def with_overrides(cfg: Any, **overrides: Any) -> Any:
    """A copy of a config with fields set by their flag names (``mle_epochs=2`` for ``--mle-epochs 2``).

    Every flag name is unique within a task's config, so the nesting need not be spelled out.

    Raises:
        ValueError: a name that is no field of this config, or a value the field rejects.
    """
    leaves: dict[str, tuple[str, ...]] = {}

    def walk(cls: type, path: tuple[str, ...]) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], (*path, f.name))
            else:
                leaves[f.name] = (*path, f.name)

    walk(type(cfg), ())
    unknown = sorted(set(overrides) - set(leaves))
    if unknown:
        import difflib

        hints = [m for u in unknown for m in difflib.get_close_matches(u, leaves, n=1)]
        near = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ValueError(f"{type(cfg).__name__}: no field {', '.join(unknown)}{near}")

    def put(node: Any, path: tuple[str, ...], value: Any) -> Any:
        if len(path) == 1:
            return dataclasses.replace(node, **{path[0]: tuple(value) if isinstance(value, list) else value})
        return dataclasses.replace(node, **{path[0]: put(getattr(node, path[0]), path[1:], value)})

    for name, value in overrides.items():
        cfg = put(cfg, leaves[name], value)
    return cfg


def lm_config(preset: str = DEFAULT_PRESET, **overrides: Any) -> LMConfig:
    """The ``train lm`` config of a preset (``PRESETS``) with fields set by flag name.

    >>> cfg = lm_config("smoke", run_dir="runs/demo", mle_epochs=2, loss="ppo")
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    return with_overrides(PRESETS[preset], **overrides)


def style_config(preset: str = "yelp", **overrides: Any) -> StyleConfig:
    """The ``train style`` config of a preset (``STYLE_PRESETS``) with fields set by flag name.

    >>> cfg = style_config("yelp", data="data/yelp", adv_steps=300, word_drop=0.1)
    """
    if preset not in STYLE_PRESETS:
        raise ValueError(f"unknown preset {preset!r} (choose from {', '.join(STYLE_PRESETS)})")
    return with_overrides(STYLE_PRESETS[preset], **overrides)


@dataclass(frozen=True)
class RatioConfig:
    """``textgan train ratio``: a real-vs-generated classifier D fitted to a finished LM run (saved in
    the run as ``ratio.safetensors`` and ``ratio.json``, whose ``config`` is this)."""

    run: str = field(default="", metadata=_help("the finished 'textgan train lm' run whose generator D is fitted to"))
    run_dir: str = field(default="", metadata=_help("where ratio.safetensors and ratio.json go (default: --run)"))
    arch: Literal["lstm", "cnn", "generator"] = field(
        default="lstm",
        metadata=_help(
            "lstm: ScratchGAN's per-token LSTM (every prefix classified); cnn: RelGAN's CNN (the critic's); "
            "generator: a copy of the run's trained generator with a new per-prefix head, fine-tuned"
        ),
    )
    steps: int = field(default=2000, metadata=_help("most D updates (early stopping may end sooner)"))
    batch_size: int = field(default=128, metadata=_help("real and fresh generated sentences per step (each)"))
    lr: float = field(default=1e-3, metadata=_help("AdamW learning rate of D"))
    embed_dim: int = field(default=64, metadata=_help("lstm: embedding size"))
    hidden_dim: int = field(default=128, metadata=_help("lstm: hidden size"))
    dropout: float = field(default=0.1, metadata=_help("dropout (lstm: embeddings and outputs; cnn: before its MLP)"))
    score: Literal["last", "mean"] = field(
        default="last",
        metadata=_help("lstm: the sentence's logit is its last prefix's (log p_data/p at the optimum) or their mean"),
    )
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay"))
    augment: float = field(
        default=0.0,
        metadata=_help(
            "each token of both sides (real and generated) replaced by a uniformly random word with this "
            "probability at every training step (DiffAugment's principle: the same augmentation on both sides)"
        ),
    )
    temperature: float = field(default=1.0, metadata=_help("T of the generated side (resample at the same T)"))
    heldout: int = field(default=1000, metadata=_help("training sentences held out for the early-stopping AUC"))
    eval_every: int = field(default=100, metadata=_help("steps between held-out AUC evaluations"))
    patience: int = field(default=5, metadata=_help("stop after this many evaluations without a better AUC"))
    fresh_real: bool = field(
        default=False, metadata=_help("oracle data only: a fresh real batch from the oracle every step (upper bound)")
    )
    seed: int = field(default=0, metadata=_help("seed of D's weights, batches and samples"))
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda or cuda:i"))
    progress: bool = field(default=True, metadata=_help("show a progress bar (only on a terminal)"))

    def __post_init__(self) -> None:
        _check(bool(self.run), "--run", "the LM run to fit D to is required (--run RUN)")
        _check(self.arch in ("lstm", "cnn", "generator"), "--arch", "choose from lstm, cnn, generator")
        _check(self.score in ("last", "mean"), "--score", "choose from last, mean")
        _check(self.steps >= 1, "--steps", "must be >= 1")
        _check(self.batch_size >= 2, "--batch-size", "must be >= 2")
        _check(self.lr > 0, "--lr", "must be > 0")
        _check(self.embed_dim >= 1, "--embed-dim", "must be >= 1")
        _check(self.hidden_dim >= 1, "--hidden-dim", "must be >= 1")
        _check(0 <= self.dropout < 1, "--dropout", "must be in [0, 1)")
        _check(self.weight_decay >= 0, "--weight-decay", "must be >= 0")
        _check(0 <= self.augment < 1, "--augment", "must be in [0, 1)")
        _check(self.temperature > 0, "--temperature", "must be > 0")
        _check(self.heldout >= 2, "--heldout", "must be >= 2")
        _check(self.eval_every >= 1, "--eval-every", "must be >= 1")
        _check(self.patience >= 1, "--patience", "must be >= 1")
