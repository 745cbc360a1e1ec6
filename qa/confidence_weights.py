"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'question_words', 'maxsim1', 'maxsim1_minus_mean',
 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1', 'tokcover_low2_1',
 'tokcover_min_window', 'read_margin', 'read_score', 'read_margin_max', 'read_margins_positive',
 'yes_no']
MEANS = [0.556788, 0.063208, 0.153488, 0.429738, 0.476903, 0.620124, 0.459299, 0.139997, 0.814684, 1.762645,
 0.664096, 0.140844, 0.073883, 0.187067, 0.440223, 0.356158, 0.428796, 0.401527, 3.2228, 4.699461,
 3.27056, 0.418467, 0.011542]
SCALES = [0.153739, 0.126711, 0.138037, 0.218707, 0.223562, 0.200877, 0.265858, 0.311498, 0.388554, 0.357847,
 0.150864, 0.110186, 0.03929, 0.353832, 0.264653, 0.216795, 0.225474, 0.213669, 2.528798, 1.099769,
 2.479331, 0.277473, 0.106813]
WEIGHTS = [0.603557, 0.009689, 0.073312, -0.068473, 0.426843, -0.200422, -0.181566, -0.01145, 0.033813,
 -0.020276, -0.38972, 1.212152, 0.009936, -0.525905, -0.391389, 0.006517, -0.186737, 0.435169,
 0.7021, -0.498148, 0.828925, -0.003859, 0.170595]
INTERCEPT = -0.310614
#: Abstain below this probability (at most 4.0% wrong abstentions on the fit halves).
THRESHOLD = 0.17
