"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5', 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1', 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc']
MEANS = [0.493253, 0.063696, 0.149938, 0.425418, 0.465615, 0.619217, 0.440263, 0.343888, 0.838269, 0.504556, 1.623324, 0.617912, 0.14958, 0.067579, 0.388781, 0.466763]
SCALES = [0.156337, 0.120294, 0.139038, 0.223455, 0.236096, 0.216283, 0.269816, 0.44629, 0.368204, 0.499979, 0.33467, 0.171915, 0.114273, 0.037761, 0.467043, 0.288527]
WEIGHTS = [1.210455, -0.731579, 0.196093, -0.468224, 0.789497, 0.129311, -0.406659, 0.029831, 0.698483, -0.176817, 0.412145, 0.641754, 0.764031, 0.330863, -1.791325, -0.341584]
INTERCEPT = 0.21853
#: Abstain below this probability (at most 3% wrong abstentions on the fit half).
THRESHOLD = 0.155
