#!/usr/bin/env bash
# Checks the include direction of docs/architecture.md: a folder of src/ may include only the
# folders listed for it, and may name (forward-declare) only types those folders define; app/ sits
# above everything and nothing in src/ includes it; inside kernels/cpu/, ref/ includes no ISA
# folder, an ISA folder includes only ref/, simd/ (the kernels written once for every ISA), its own
# folder and the shared headers, and simd/ includes no ISA folder. Prints every violation and exits
# 1 if there is any.
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
  [server]="server engine tools store models formats tensor tokenizer sampling grammar chat base"
  [tools]="tools formats models ops kernels tensor tokenizer base"
  [store]="store base"
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
# Forward declarations at namespace scope ("class Model;") point at the folder that defines the type.
declare -A defined_in  # type name -> folders that define it in a header
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^[^:]*:[0-9]+:(class|struct) ([A-Za-z_][A-Za-z0-9_]*).*/\2/' <<<"$line")
  folder=${file#./}
  folder=${folder%%/*}
  defined_in[$name]="${defined_in[$name]:-} $folder"
done < <(grep -rnE '^(class|struct) [A-Za-z_][A-Za-z0-9_]*( final)?( *:[^;]*)? *\{' --include=*.h .)
while IFS= read -r line; do
  file=${line%%:*}
  dir=${file#./}
  dir=${dir%%/*}
  name=$(sed -E 's/^[^:]*:[0-9]+:(class|struct) ([A-Za-z_][A-Za-z0-9_]*);.*/\2/' <<<"$line")
  homes=${defined_in[$name]:-}
  [ -z "$homes" ] && continue  # not a type of owl's
  ok=0
  for home in $homes; do
    case " ${allowed[$dir]:-} " in *" $home "*) ok=1 ;; esac
  done
  if [ $ok = 0 ]; then
    echo "layering: $file declares $name, a type of${homes} (src/$dir may use: ${allowed[$dir]:-})"
    status=1
  fi
done < <(grep -rnE '^(class|struct) [A-Za-z_][A-Za-z0-9_]*;' --include=*.h --include=*.cpp .)

# Inside kernels/cpu/: the scalar reference knows no ISA; an ISA folder knows no other one; the
# kernels written once for every ISA (simd/, templates on a backend) know none, and only the ISA
# folders include them, each with its own backend.
for isa_dir in kernels/cpu/ref kernels/cpu/avx2 kernels/cpu/avx512 kernels/cpu/simd; do
  own=${isa_dir##*/}
  case $own in
    ref | simd) may=("$own") ;;
    *) may=("$own" ref simd) ;;
  esac
  while IFS= read -r line; do
    target=$(sed -E 's/.*#include "kernels\/cpu\/([^/"]+)\/.*/\1/' <<<"$line")
    if [[ ! " ${may[*]} " =~ " $target " ]]; then
      echo "layering: ${line%%:*} includes kernels/cpu/$target/ (src/$isa_dir may include: ${may[*]/%//}, the shared kernels/cpu headers)"
      status=1
    fi
  done < <(grep -rnE '^#include "kernels/cpu/[a-z0-9_]+/' "$isa_dir")
done
while IFS= read -r line; do
  echo "layering: ${line%%:*} includes kernels/cpu/simd/ (only the ISA folders instantiate its templates)"
  status=1
done < <(grep -rnE '^#include "kernels/cpu/simd/' . | grep -vE '^\./kernels/cpu/(avx2|avx512|simd)/')

# app/ is the top: nothing in src/ includes it (checked above: no folder lists app), and it
# includes only folders of src/ and its own headers.
cd ..
while IFS= read -r line; do
  target=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$line")
  if [ ! -d "src/$target" ]; then
    echo "layering: ${line%%:*} includes $target/, which is not a folder of src/"
    status=1
  fi
done < <(grep -rnE '^#include "[a-z_]+/' app)
exit $status
