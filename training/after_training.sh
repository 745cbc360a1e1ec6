#!/usr/bin/env bash
# After a reader training run: export and ship it, refit abstention, and evaluate it end to end.
#   bash training/after_training.sh runs/reader-3 [EXPORT OPTIONS, e.g. --context 1 --v2-negatives 2]
# Each step's output goes to the run folder. It replaces qa/models/reader.* and
# qa/confidence_weights.py: `git checkout` them to go back to the committed reader.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:?usage: after_training.sh RUN_FOLDER [EXPORT OPTIONS]}
shift
python training/train_reader.py export --run "$R" --threads 2 "$@" > "$R/export.txt" 2>&1
python benchmarks/fit_confidence.py --squad-limit 1500 --features "$R/confidence.npz" --write > "$R/fit-confidence.txt" 2>&1
python benchmarks/abstention.py --reliability --json "$R/abstention.json" > "$R/abstention.txt" 2>&1
python training/train_reader.py e2e --run "$R" --threads 2 2> "$R/e2e.txt"
qa eval ../shared/eval/narrativeqa/questions.jsonl --corpus ../shared/eval/narrativeqa/corpus.jsonl \
  --exclude-gold --json --no-progress > "$R/nqa-eval.json"
qa eval ../shared/eval/boolq/questions.jsonl --corpus ../shared/eval/boolq/corpus.jsonl --depth 10 \
  --json --no-progress > "$R/boolq-eval.json"
qa eval ../shared/eval/seeds-dev.jsonl --index seeds --exclude-gold --json --no-progress > "$R/seeds-eval.json"
