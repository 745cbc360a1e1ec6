"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['read_margin']
MEANS = [0.0]
SCALES = [1.0]
WEIGHTS = [1.0]
INTERCEPT = 0.0
THRESHOLD = 0.5
