#!/usr/bin/env bash
# Installs the system programs fleursr uses through apt-get when it can.
# Usage: install-system-deps.sh required|optional
#   required: espeak-ng and ffmpeg (the demo needs them); stop with the exact command to run when
#             they are missing and cannot be installed
#   optional: those, plus festival and its Catalan HTS voice (`corpus synth --engine festival`);
#             warn and go on (the test suite skips what needs them)
set -u
mode=${1:-required}
packages=(espeak-ng ffmpeg)
[ "$mode" = optional ] && packages+=(festival festvox-ca-ona-hts)
installed() {  # a Debian package where dpkg exists, else a program on PATH
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
  else
    command -v "$1" >/dev/null 2>&1
  fi
}
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    sudo_cmd=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    sudo_cmd=(none)
  fi
  if [ "${sudo_cmd[*]-}" != none ]; then
    echo "installing ${missing[*]} with apt-get"
    if "${sudo_cmd[@]}" apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; then
      exit 0
    fi
  fi
fi

msg="fleursr needs ${missing[*]}. Install with: sudo apt-get install -y ${missing[*]}"
if [ "$mode" = required ]; then
  echo "error: $msg" >&2
  exit 1
fi
echo "warning: $msg (tests that need them are skipped)" >&2
exit 0
