#!/usr/bin/env bash
# Download the public text-GAN corpora into textgan's layout: DEST/coco/{train,test}.txt and
# DEST/emnlp_news/{train,test}.txt. Needs internet access and curl.
set -euo pipefail
dest="${1:-datasets}"
base="https://raw.githubusercontent.com/geek-ai/Texygen/3104e22ac75f3cc2070da2bf5e2da6d2bef149ad/data"
fetch() {  # url target: strip trailing spaces, ensure a final newline
  mkdir -p "$(dirname "$2")"
  curl -fsSL "$1" | sed -e 's/[[:space:]]*$//' -e '$a\' > "$2.tmp" && mv "$2.tmp" "$2"
  echo "$2: $(wc -l < "$2") lines"
}
fetch "$base/image_coco.txt" "$dest/coco/train.txt"
fetch "$base/testdata/test_coco.txt" "$dest/coco/test.txt"
fetch "$base/emnlp_news.txt" "$dest/emnlp_news/train.txt"
fetch "$base/testdata/test_emnlp.txt" "$dest/emnlp_news/test.txt"
