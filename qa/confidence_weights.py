"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'question_words', 'maxsim1', 'maxsim1_minus_mean',
 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1', 'tokcover_low2_1',
 'tokcover_min_window', 'read_margin', 'read_score', 'read_margin_max', 'read_margins_positive',
 'yes_no']
MEANS = [0.556788, 0.063208, 0.153488, 0.432255, 0.480482, 0.620124, 0.461719, 0.139997, 0.814684, 1.762645,
 0.664096, 0.140844, 0.073883, 0.187067, 0.440223, 0.359396, 0.432628, 0.405781, 2.878146, 4.524133,
 2.90511, 0.492252, 0.011542]
SCALES = [0.153739, 0.126711, 0.138037, 0.218346, 0.223349, 0.200877, 0.264611, 0.311498, 0.388554, 0.357847,
 0.150864, 0.110186, 0.03929, 0.353832, 0.264653, 0.216156, 0.224376, 0.212761, 2.839915, 1.356852,
 2.815333, 0.322307, 0.106813]
WEIGHTS = [0.58716, -0.009064, 0.097995, 0.020011, 0.335801, -0.142528, -0.264085, -0.003859, 0.030422,
 -0.056746, -0.29388, 1.118924, 0.002626, -0.521903, -0.425065, 0.075212, -0.288898, 0.422823,
 0.483395, -0.488432, 1.134932, -0.134615, 0.153441]
INTERCEPT = -0.333743
#: Abstain below this probability (at most 4.0% wrong abstentions on the fit halves).
THRESHOLD = 0.145
