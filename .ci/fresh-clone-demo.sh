#!/usr/bin/env bash
# The Quickstart as a newcomer meets it: a clean clone of HEAD, no uv on PATH, no ~/.local/bin,
# an empty HOME (so no uv cache or user config), then `make demo PEOPLE=300`.
# Usage: bash .ci/fresh-clone-demo.sh [REPO]   (REPO defaults to this checkout; its HEAD is cloned)
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
started=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

commit=$(git -C "$repo" rev-parse HEAD)
git clone --quiet "$repo" "$tmp/clone"
git -C "$tmp/clone" checkout --quiet --detach "$commit"

# The system directories only; a directory that holds a uv is replaced by links to all but it.
clean_path=""
for dir in /usr/local/bin /usr/bin /bin; do
  if [ -e "$dir/uv" ] || [ -e "$dir/uvx" ]; then
    shim="$tmp/path$(echo "$dir" | tr / _)"
    mkdir -p "$shim"
    for f in "$dir"/*; do
      case "$(basename "$f")" in uv | uvx) ;; *) ln -s "$f" "$shim/" ;; esac
    done
    dir=$shim
  fi
  clean_path="${clean_path:+$clean_path:}$dir"
done
if env -i PATH="$clean_path" bash -c 'command -v uv' >/dev/null; then
  echo "fresh-clone demo: uv is still on PATH=$clean_path" >&2
  exit 1
fi

# Only the machine's network settings pass through: the package index (PIP_*; pip also reads
# /etc/pip.conf and /etc/xdg/pip whatever HOME is), CA bundles and proxies.
pass=()
while IFS='=' read -r name _; do
  case "$name" in
    PIP_* | SSL_CERT_FILE | SSL_CERT_DIR | REQUESTS_CA_BUNDLE | CURL_CA_BUNDLE | LANG \
      | http_proxy | https_proxy | no_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY)
      pass+=("$name=${!name}") ;;
  esac
done < <(env)

home=$(mktemp -d -p "$tmp" home.XXXX)
echo "fresh-clone demo: $commit in $tmp/clone, PATH=$clean_path, HOME=$home"
status=0
(cd "$tmp/clone" && env -i "${pass[@]}" PATH="$clean_path" HOME="$home" CI="${CI:-}" \
  HUB_DATA_DIR="$tmp/clone/.hub" make demo PEOPLE=300 </dev/null) || status=$?
echo "fresh-clone demo: exit $status after $(($(date +%s) - started)) s"
exit "$status"
