"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5',
 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1',
 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc', 'tokcover_min1',
 'tokcover_low2_1', 'tokcover_min_window']
MEANS = [0.473219, 0.059819, 0.141849, 0.378119, 0.412671, 0.583645, 0.396031, 0.374168, 0.841654, 0.4961,
 1.626494, 0.584265, 0.134669, 0.060316, 0.428887, 0.525425, 0.317413, 0.39018, 0.357976]
SCALES = [0.150405, 0.119123, 0.13488, 0.213687, 0.227079, 0.219967, 0.25647, 0.446733, 0.365065, 0.499985,
 0.334305, 0.165005, 0.106886, 0.035662, 0.465683, 0.279066, 0.206974, 0.220904, 0.207589]
WEIGHTS = [0.429312, -0.528695, 0.190641, -0.047243, 0.724415, -0.003787, -0.689445, 0.001623, 0.360098,
 -0.258409, 0.31392, 1.969062, 0.060926, 0.068643, -1.190603, -0.846343, -0.450711, -0.512107,
 0.319627]
INTERCEPT = -1.686727
#: Abstain below this probability (at most 3% wrong abstentions on the fit half).
THRESHOLD = 0.074
