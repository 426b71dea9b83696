#!/usr/bin/env bash
# Fetch lava-dl 0.6.0's netx test assets (tiny.net, gts/tinynet/..., ~80 MB) into
# .cache/lava-dl/netx/ once. Tests find them through SNNC_LAVADL_ASSETS. Never commit them.
# Usage: scripts/fetch_lavadl.sh [DEST]   (default .cache/lava-dl/netx)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/lava-dl
dest=${1:-$cache/netx}
[[ -f $dest/tiny.net && -d $dest/gts/tinynet ]] && exit 0

wheel=$cache/lava_dl-0.6.0-py3-none-any.whl
if [[ ! -f $wheel ]]; then
  python3 -m pip download -q lava-dl==0.6.0 --no-deps --python-version 3.10 \
    --only-binary=:all: -d "$cache" 2> >(grep -v "^WARNING: Location 'file:" >&2)
fi
rm -rf "$dest.tmp"
python3 - "$wheel" "$dest.tmp" <<'PY'
import sys, zipfile
from pathlib import Path
wheel, dest = sys.argv[1], Path(sys.argv[2])
prefix = "tests/lava/lib/dl/netx/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = dest / name[len(prefix):]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(name))
PY
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch_lavadl: lava-dl netx assets in $dest"
