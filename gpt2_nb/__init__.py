"""gpt2_nb: GPT-2 built from scratch in PyTorch, chapter by chapter, and the library the chapters export.

`import gpt2_nb` gives the main names below; each chapter's module (`gpt2_nb.core` ... `gpt2_nb.bench`) holds the rest.
Importing the package loads every module that adds methods to an earlier class (chapter 08's `GPT.forward_cached`) or
registers a class or an optimizer with an earlier chapter (chapter 12's `ModernGPT` and Muon), so those exist whichever
module a program imports first. (Written by hand: nbdev exports the chapters' modules.)"""
__version__ = "0.1.0"

from .bpe import BPETokenizer, gpt2_encoding
from .model import GPT, GPTConfig, PRESETS, export_hf, load_model, load_tokenizer
from .sample import generate, generate_text
from .train import TRAIN_PRESETS, TrainConfig, train
from .modern import ModernGPT

__all__ = ["BPETokenizer", "gpt2_encoding", "GPT", "GPTConfig", "PRESETS", "export_hf", "load_model", "load_tokenizer",
           "generate", "generate_text", "TRAIN_PRESETS", "TrainConfig", "train", "ModernGPT"]
