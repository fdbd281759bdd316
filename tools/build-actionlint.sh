#!/usr/bin/env bash
# Puts actionlint at the pinned version into .tools/bin (ignored, kept between runs), for
# `make workflow-lint`. An actionlint already on PATH at that version is linked instead;
# otherwise it is built with Go from the Go module proxy (github.com/rhysd/actionlint,
# cmd/actionlint), as tools/build-engine.sh builds the engine. Its PyPI wrapper is not used:
# it downloads the binary from GitHub at install time.
set -euo pipefail
cd "$(dirname "$0")/.."
# Renovate proposes updates of this pin (.github/renovate.json, a regex manager).
VERSION=1.7.12
BIN=$PWD/.tools/bin

# `actionlint -version` prints the version on its first line: the module version
# `go install` recorded, `v1.7.12` (rhysd/actionlint command.go, getCommandVersion).
version_of() { "$1" -version 2>/dev/null | head -1 || true; }

built=
[[ -x $BIN/actionlint ]] && built=$(version_of "$BIN/actionlint")
if [[ $built == "v$VERSION" ]]; then
    exit 0
fi
mkdir -p "$BIN"
found=$(command -v actionlint || true)
on_path=
[[ -n $found ]] && on_path=$(version_of "$found")
if [[ $on_path == "v$VERSION" ]]; then
    ln -sf "$found" "$BIN/actionlint"
    exit 0
fi
if ! command -v go >/dev/null; then
    echo "build-actionlint: actionlint $VERSION is needed: install Go (https://go.dev/dl/) to build it, or put actionlint $VERSION on PATH" >&2
    exit 1
fi
echo "build-actionlint: go install github.com/rhysd/actionlint/cmd/actionlint@v$VERSION"
GOBIN=$BIN GOTOOLCHAIN=local go install -trimpath -ldflags="-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$VERSION"
