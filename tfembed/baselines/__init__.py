"""Closed-form zero-shot baselines (NumPy): ridge regressions in both directions and ESZSL."""

from tfembed.baselines.closed_form import (ESZSL, SemanticToVisualRegression,
                                           VisualToSemanticRegression, ridge)

BASELINES = {"linear_visual_to_semantic": VisualToSemanticRegression,
             "linear_semantic_to_visual": SemanticToVisualRegression, "eszsl": ESZSL}

__all__ = ["BASELINES", "ESZSL", "SemanticToVisualRegression", "VisualToSemanticRegression",
           "ridge"]
