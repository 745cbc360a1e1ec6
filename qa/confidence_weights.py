"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1',
 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1',
 'tokcover_low2_1', 'tokcover_min_window', 'answer_not_a_name', 'count_not_of_asked']
MEANS = [0.479785, 0.054749, 0.135397, 0.380184, 0.418704, 0.57752, 0.404056, 0.306842, 0.875613, 0.493873,
 1.636129, 0.588976, 0.1323, 0.061462, 0.402471, 0.514831, 0.300072, 0.37777, 0.347159, 0.088235,
 0.004289]
SCALES = [0.149853, 0.125458, 0.136628, 0.202333, 0.214204, 0.213869, 0.246117, 0.429203, 0.330023, 0.499962,
 0.331531, 0.158242, 0.104923, 0.034934, 0.466379, 0.264457, 0.19734, 0.213282, 0.196437, 0.283637,
 0.065351]
WEIGHTS = [0.498575, -0.107571, 0.046939, -0.051874, 0.672489, -0.010045, -0.759589, 0.179773, 0.205811,
 -0.236584, 0.275483, 0.777093, 0.35314, 0.128777, -1.198685, -0.880483, -0.321934, -0.144843,
 0.512407, -0.376993, -0.251496]
INTERCEPT = -1.676807
#: Abstain below this probability (at most 3% wrong abstentions on the fit half).
THRESHOLD = 0.069
