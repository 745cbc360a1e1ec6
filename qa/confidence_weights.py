"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1',
 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1',
 'tokcover_low2_1', 'tokcover_min_window', 'pred_cover_min_window', 'first_pred_cover_window',
 'head_cover_window', 'count_not_of_asked', 'who_not_person']
MEANS = [0.479785, 0.054749, 0.135397, 0.380184, 0.418704, 0.57752, 0.404056, 0.306842, 0.875613, 0.493873,
 1.636129, 0.588976, 0.1323, 0.061462, 0.402471, 0.514831, 0.300072, 0.37777, 0.347159, 0.464594,
 0.575315, 0.903861, 0.004289, 0.064338]
SCALES = [0.149853, 0.125458, 0.136628, 0.202333, 0.214204, 0.213869, 0.246117, 0.429203, 0.330023, 0.499962,
 0.331531, 0.158242, 0.104923, 0.034934, 0.466379, 0.264457, 0.19734, 0.213282, 0.196437, 0.237352,
 0.247104, 0.224967, 0.065351, 0.245354]
WEIGHTS = [0.466284, -0.143692, 0.050907, 0.051623, 0.626605, -0.004539, -0.796118, 0.189293, 0.220278,
 -0.228593, 0.241197, 0.809297, 0.342029, 0.090712, -1.357527, -0.867242, -0.355944, -0.146523,
 0.329198, 0.123917, 0.239473, -0.199749, -0.268434, -0.254736]
INTERCEPT = -1.700897
#: Abstain below this probability (at most 3% wrong abstentions on the fit half).
THRESHOLD = 0.072
