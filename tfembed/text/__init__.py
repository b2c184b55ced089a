"""Text preprocessing shared by every text tower: `TextPreprocessor` (tensorflow-text ops)."""

from tfembed.text.preprocessor import (FILENAME, OOV, PAD, TextPreprocessor, standardize,
                                       word_tokens)

__all__ = ["FILENAME", "OOV", "PAD", "TextPreprocessor", "standardize", "word_tokens"]
