"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'question_words', 'maxsim1', 'maxsim1_minus_mean',
 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1', 'tokcover_low2_1',
 'tokcover_min_window', 'read_margin', 'read_score', 'read_margin_max', 'read_margins_positive',
 'yes_no', 'read_null']
MEANS = [0.589552, 0.078607, 0.168227, 0.476584, 0.522993, 0.642665, 0.525587, 0.089366, 0.730197, 1.793234,
 0.696658, 0.165392, 0.082477, 0.12334, 0.384471, 0.390653, 0.468814, 0.435972, 2.769136, 4.451341,
 2.794331, 0.447467, 0.010522, 2.347834]
SCALES = [0.149745, 0.125973, 0.13706, 0.216869, 0.214391, 0.188339, 0.265009, 0.253086, 0.443857, 0.345998,
 0.138052, 0.110205, 0.03839, 0.295262, 0.252306, 0.214518, 0.216939, 0.208861, 2.770174, 1.445704,
 2.746245, 0.297627, 0.102034, 1.505102]
WEIGHTS = [0.59346, -0.171091, 0.097612, -0.084972, 0.367718, -0.067651, -0.529991, -0.075595, -0.009581,
 -0.031724, 0.055143, 0.133584, -0.21042, -0.359791, -0.112219, -0.054237, 0.062792, 0.260768,
 0.067788, 0.225005, 0.115327, -0.013229, 0.085209, -0.683583]
INTERCEPT = -0.130682
#: Abstain below this probability (at most 4.0% wrong abstentions on the fit halves).
THRESHOLD = 0.201
