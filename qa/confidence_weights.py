"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; do not edit by hand)."""

from __future__ import annotations

FEATURES = ['cos1', 'cos1_minus_cos2', 'cos1_minus_cos10', 'idf_cover1', 'idf_cover_window', 'idf_cover5', 'word_cover1', 'names_missing5', 'has_names', 'answer_typed', 'question_words', 'maxsim1', 'maxsim1_minus_mean', 'bm25_norm1', 'names_missing_doc', 'words_missing_doc']
MEANS = [0.493253, 0.063696, 0.149938, 0.425418, 0.465615, 0.619217, 0.414447, 0.383371, 0.838269, 0.504556, 1.624986, 0.617912, 0.14958, 0.067579, 0.411276, 0.477822]
SCALES = [0.156337, 0.120294, 0.139038, 0.223455, 0.236096, 0.216283, 0.273081, 0.455148, 0.368204, 0.499979, 0.334723, 0.171915, 0.114273, 0.037761, 0.469825, 0.292444]
WEIGHTS = [1.331039, -0.762673, 0.183137, -0.600193, 1.013446, 0.216826, -0.432587, 0.325065, 0.715266, -0.271559, 0.37195, 0.879242, 0.794721, 0.291379, -1.803939, -0.108546]
INTERCEPT = 0.367005
#: Abstain below this probability (at most 4% wrong abstentions on the fit half).
THRESHOLD = 0.182
