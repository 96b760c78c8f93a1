#!/bin/sh
# sysknob.sh apply|restore NAME VALUE FILE...
# Sets a kernel knob (sysfs/procfs) on every FILE, saving the first value
# seen so `restore` can put it back. Prints one word: changed, unchanged or
# absent (the knob does not exist on this machine, e.g. no cpufreq in a VM).
set -eu
action=$1; name=$2; value=$3; shift 3
state=/var/lib/gaslab/tune
mkdir -p "$state"
# THP-style files show the choice in brackets: "always [madvise] never".
current() { sed -n 's/.*\[\(.*\)\].*/\1/p; t; p' "$1" | head -n1; }

# A knob the kernel reports as not controllable (SMT in most VMs) is absent.
present=""
for f in "$@"; do
  [ -e "$f" ] || continue
  case $(current "$f") in notsupported|notimplemented|forceoff) continue ;; esac
  present="$present $f"
done
[ -z "$present" ] && { echo absent; exit 0; }

changed=unchanged
for f in $present; do
  key=$(printf '%s' "$f" | tr '/' '_')
  case $action in
    apply)
      [ -e "$state/$name$key" ] || current "$f" > "$state/$name$key"
      want=$value ;;
    restore)
      [ -e "$state/$name$key" ] || continue
      want=$(cat "$state/$name$key") ;;
    *) echo "unknown action $action" >&2; exit 2 ;;
  esac
  if [ "$(current "$f")" != "$want" ]; then
    printf '%s' "$want" > "$f"
    changed=changed
  fi
  [ "$action" = restore ] && rm -f "$state/$name$key"
done
echo $changed
