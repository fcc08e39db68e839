#!/usr/bin/env bash
# Checks the include direction of docs/architecture.md: a folder of src/ may include only the
# folders listed for it. Prints every violation and exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/../src"

declare -A allowed=(
  [base]="base"
  [tensor]="tensor base"
  [kernels]="kernels tensor base"
  [ops]="ops kernels tensor base"
  [formats]="formats tensor base"
  [tokenizer]="tokenizer formats base"
  [grammar]="grammar base"
  [sampling]="sampling grammar base"
  [chat]="chat base formats"
  [models]="models ops kernels formats tokenizer tensor base"
  [engine]="engine owl models ops kernels formats tensor tokenizer sampling grammar chat base"
  [server]="server engine tools models formats tensor tokenizer sampling grammar chat base"
  [tools]="tools formats models ops kernels tensor tokenizer base"
  [train]="train models ops kernels formats tokenizer tensor chat base"
)

status=0
for dir in */; do
  dir=${dir%/}
  if [ -z "${allowed[$dir]+x}" ]; then
    echo "layering: src/$dir has no rule in scripts/check_layering.sh"
    status=1
    continue
  fi
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$line")
    case " ${allowed[$dir]} " in
      *" $target "*) ;;
      *) echo "layering: $file includes $target/ (src/$dir may include: ${allowed[$dir]})"; status=1 ;;
    esac
  done < <(grep -rnE '^#include "[a-z_]+/' "$dir")
done
exit $status
