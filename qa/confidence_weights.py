"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1',
 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1',
 'tokcover_low2_1', 'tokcover_min_window', 'answer_not_a_name', 'count_not_of_asked']
MEANS = [0.476226, 0.048984, 0.129346, 0.362096, 0.400912, 0.574732, 0.389429, 0.270078, 0.875613, 0.498162,
 1.636129, 0.592231, 0.113212, 0.057731, 0.328738, 0.527626, 0.303165, 0.375195, 0.347869, 0.08027,
 0.003676]
SCALES = [0.150146, 0.129296, 0.136679, 0.208828, 0.222374, 0.216714, 0.247628, 0.408554, 0.330023, 0.499997,
 0.331531, 0.154655, 0.106247, 0.035603, 0.43654, 0.266422, 0.197608, 0.21295, 0.196007, 0.27171,
 0.060522]
WEIGHTS = [0.486445, -0.358633, 0.130473, 0.707414, 0.297606, -0.076645, -0.970318, 0.276424, 0.192887,
 -0.256527, 0.227167, 0.693961, 0.695027, -0.06613, -1.337852, -0.921602, -0.372348, -0.03562,
 0.415281, -0.395325, -0.238555]
INTERCEPT = -1.70744
#: Abstain below this probability (at most 4.0% wrong abstentions on the fit half).
THRESHOLD = 0.088
