"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'question_words', 'maxsim1', 'maxsim1_minus_mean',
 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1', 'tokcover_low2_1',
 'tokcover_min_window', 'read_margin', 'read_score', 'read_margin_max', 'read_margins_positive',
 'yes_no']
MEANS = [0.556788, 0.063208, 0.153512, 0.43146, 0.479529, 0.620124, 0.462091, 0.139997, 0.814684, 1.762645,
 0.664096, 0.140845, 0.073883, 0.187067, 0.440223, 0.359814, 0.4328, 0.406476, 2.168964, 4.285862,
 2.201103, 0.41477, 0.011542]
SCALES = [0.153739, 0.126711, 0.138077, 0.219005, 0.223847, 0.200877, 0.264489, 0.311498, 0.388554, 0.357847,
 0.150864, 0.110187, 0.03929, 0.353832, 0.264653, 0.215934, 0.224413, 0.21279, 3.049011, 1.607821,
 3.024831, 0.314915, 0.106813]
WEIGHTS = [0.619031, -0.00457, 0.087667, 0.054701, 0.34446, -0.136373, -0.299092, 0.028997, 0.027481,
 -0.100537, -0.269034, 1.068991, -0.007966, -0.524042, -0.40965, -0.107964, -0.207876, 0.473951,
 0.455335, -0.510283, 1.255943, -0.22132, 0.139119]
INTERCEPT = -0.329358
#: Abstain below this probability (at most 4.0% wrong abstentions on the fit halves).
THRESHOLD = 0.148
