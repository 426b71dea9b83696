# shellcheck shell=bash
# Helpers sourced by the setup scripts (not run on its own).

# make_venv DIR PYTHON X.Y: create DIR with PYTHON unless it already holds a Python X.Y venv.
make_venv() {
  local dir=$1 python=$2 want=$3
  if [[ -x $dir/bin/python ]] &&
    [[ $("$dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') == "$want" ]]; then
    return
  fi
  echo "setup: creating $dir with $python (Python $want)"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  local got
  got=$("$dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ $got == "$want" ]] || { echo "setup: $python gave Python $got, need $want" >&2; exit 1; }
}

# pipq VENV ARGS...: quiet pip in VENV, minus the noise this machine's pip config produces
# (local index folders without the package; dependency complaints about the frameworks we
# install with --no-deps on purpose, which scripts/check_env.py checks against a list).
pipq() {
  local venv=$1
  shift
  "$venv/bin/python" -m pip -q "$@" 2> >(grep -v -E \
    "^WARNING: Location 'file:|^ERROR: pip's dependency resolver does not|^(snntorch|spikingjelly|norse|neurobench) [^ ]+ requires .*, which is not installed\.$" >&2)
}
