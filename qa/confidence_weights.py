"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1',
 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1',
 'tokcover_low2_1', 'tokcover_min_window', 'answer_not_a_name', 'count_not_of_asked']
MEANS = [0.476226, 0.048984, 0.129346, 0.362096, 0.400912, 0.574732, 0.389429, 0.270078, 0.875613, 0.498162,
 1.636129, 0.575484, 0.122008, 0.057731, 0.328738, 0.527626, 0.303165, 0.375195, 0.347869, 0.08027,
 0.003676]
SCALES = [0.150146, 0.129296, 0.136679, 0.208828, 0.222374, 0.216714, 0.247628, 0.408554, 0.330023, 0.499997,
 0.331531, 0.165599, 0.11574, 0.035603, 0.43654, 0.266422, 0.197608, 0.21295, 0.196007, 0.27171,
 0.060522]
WEIGHTS = [0.460704, -0.457102, 0.134297, 0.365517, 0.687002, -0.118851, -1.033219, 0.220069, 0.19272,
 -0.272599, 0.209541, 0.899325, 0.502632, -0.061404, -1.178929, -1.058415, -0.394626, -0.244796,
 0.604048, -0.346388, -0.244359]
INTERCEPT = -1.680693
#: Abstain below this probability (at most 3.5% wrong abstentions on the fit half).
THRESHOLD = 0.094
