#!/usr/bin/env bash
# Builds what `make e2e` needs to run the real Pulumi engine, into .tools/bin
# (ignored, kept between runs: a second run with the same versions builds nothing).
#
# Versions come from requirements.lock only: the CLI and language host at the
# `pulumi` SDK's version, the providers at pulumi-command's and pulumi-random's.
#
# What the Go module proxy serves decides what can be built (a refused module is
# final, so each refusal is printed with the proxy's answer and we go on):
# - github.com/pulumi/pulumi/pkg/v3 (the CLI): built at the lock's version, or, when
#   the proxy does not serve that one, the lowest served version above it.
# - github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 (Pulumi's
#   Python host): when refused, our own host (tools/engine/pulumi-language-python,
#   over the served sdk/v3 module) is built instead.
# - github.com/pulumi/pulumi-command/provider, github.com/pulumi/pulumi-random/
#   provider/v4: when refused, Python stand-ins (tools/providers) are installed.
# - pulumi-language-python-exec and pulumi-resource-pulumi-python ship inside the
#   sdk/v3 module (python/cmd, python/dist) at the lock's version.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
BUILD=$TOOLS/build
VENV_PYTHON=$ROOT/.venv/bin/python

lock_version() {
    local version
    version=$(sed -n "s/^$1==\([^ ]*\) .*/\1/p" requirements.lock)
    if [[ -z $version ]]; then
        echo "build-engine: $1 is not pinned in requirements.lock" >&2
        exit 1
    fi
    echo "$version"
}
PULUMI_VERSION=$(lock_version pulumi)
COMMAND_VERSION=$(lock_version pulumi-command)
RANDOM_VERSION=$(lock_version pulumi-random)

# The stamp: versions plus our own sources; same stamp, nothing to do.
sources_sum=$(cat tools/build-engine.sh tools/engine/tools.go \
    tools/engine/pulumi-language-python/main.go | sha256sum)
STAMP="pulumi=$PULUMI_VERSION command=$COMMAND_VERSION random=$RANDOM_VERSION ${sources_sum%% *}"
previous=
[[ -f $TOOLS/stamp ]] && previous=$(<"$TOOLS/stamp")
if [[ $previous == "$STAMP" && -x $BIN/pulumi ]]; then
    engine=$(<"$TOOLS/engine-version")
    echo "build-engine: .tools/bin is up to date (pulumi $engine)"
    exit 0
fi

if ! command -v go >/dev/null; then
    echo "build-engine: no pulumi on PATH and no Go to build one (see README, make e2e)" >&2
    exit 1
fi
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
mkdir -p "$BIN" "$BUILD"
started=$SECONDS

# Prints the module's directory in the module cache, downloading it first; on a
# refusal prints nothing and leaves the proxy's answer in $BUILD/refused.
module_dir() {
    local json
    json=$(cd "$BUILD" && go mod download -json "$1@$2" 2>/dev/null || true)
    if grep -q '"Error"' <<<"$json"; then
        sed -n 's/.*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | sed 's/\\n\\t/ /g' >"$BUILD/refused"
        return 0
    fi
    sed -n 's/.*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}

# The version of module $1 to build when the proxy refuses $2: the lowest served
# minor release above $2, at its newest patch (patches only fix bugs).
served_at_or_above() {
    local versions first
    versions=$(cd "$BUILD" && go list -m -versions "$1" 2>/dev/null | cut -d' ' -f2- || true)
    versions=$(tr ' ' '\n' <<<"$versions" | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sed 's/^v//' || true)
    first=$({ echo "$versions"; echo "$2 WANTED"; } | sort -V | sed -n '/WANTED/,$p' | sed -n '2p')
    [[ -n $first ]] || return 0
    grep -E "^${first%.*}\.[0-9]+$" <<<"$versions" | sort -V | tail -1
}

[[ -f $BUILD/go.mod ]] || printf 'module webhost-infra/tools/probe\n\ngo 1.26\n' >"$BUILD/go.mod"

# Copies a go.mod's replace directives that point at other modules into the
# current module (one pointing at a folder, like pkg's `../sdk`, is a module we
# require by version instead).
copy_replaces() {
    local lines
    lines=$(grep -E '^replace [^ ]+ => [^.][^ ]* v' "$1" || true)
    while read -r _ old _ new version; do
        [[ -n $old ]] && go mod edit -replace="$old=$new@$version"
    done <<<"$lines"
}

# 1. The CLI's version.
PKG=github.com/pulumi/pulumi/pkg/v3
CLI_VERSION=$PULUMI_VERSION
pkg_dir=$(module_dir "$PKG" "v$CLI_VERSION")
if [[ -z $pkg_dir ]]; then
    echo "build-engine: the module proxy refuses $PKG@v$CLI_VERSION: $(<"$BUILD/refused")"
    CLI_VERSION=$(served_at_or_above "$PKG" "$PULUMI_VERSION")
    if [[ -z $CLI_VERSION ]]; then
        echo "build-engine: no served version of $PKG at or above $PULUMI_VERSION" >&2
        exit 1
    fi
    echo "build-engine: building the CLI at v$CLI_VERSION, the first served release above (newest patch)"
    pkg_dir=$(module_dir "$PKG" "v$CLI_VERSION")
fi

# 2. The wrapper module: our tools.go and language host, Pulumi's pkg and sdk,
# and pkg/go.mod's replace directives that point at other modules (its
# `../sdk` one is the sdk module we require at the same version).
WRAP=$BUILD/engine
rm -rf "$WRAP"
mkdir -p "$WRAP"
cp -R tools/engine/. "$WRAP/"
(
    cd "$WRAP"
    go mod init webhost-infra/tools/engine >/dev/null 2>&1
    go mod edit -require="$PKG@v$CLI_VERSION" -require="github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION"
    copy_replaces "$pkg_dir/go.mod"
    go mod tidy
)

# 3. Pulumi's Python host, when served; otherwise ours (same module, built below).
LANG_MODULE=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
targets=("$PKG/cmd/pulumi")
lang_dir=$(module_dir "$LANG_MODULE" "v$PULUMI_VERSION")
if [[ -n $lang_dir ]]; then
    echo "build-engine: Pulumi's language host is served; building it"
    (cd "$WRAP" && go get "$LANG_MODULE@v$PULUMI_VERSION")
    targets+=("$LANG_MODULE")
else
    echo "build-engine: the module proxy refuses $LANG_MODULE@v$PULUMI_VERSION: $(<"$BUILD/refused")"
    echo "build-engine: building tools/engine/pulumi-language-python (our host over sdk/v3) instead"
    targets+=(./pulumi-language-python)
fi

# 4. One `go build` for both binaries: the packages they share compile once, and
# Go runs as many compiles at a time as there are cores.
echo "build-engine: go build ${targets[*]} (a cold build takes a while)"
(
    cd "$WRAP"
    go build -trimpath \
        -ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION" \
        -o "$BIN/" "${targets[@]}"
)

# 5. The exec shim beside the host and the dynamic provider's launcher, from the
# sdk module at the lock's version (sdk/python/cmd and sdk/python/dist in pulumi/pulumi).
sdk_dir=$(module_dir github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION")
if [[ -z $sdk_dir ]]; then
    echo "build-engine: the module proxy refuses github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION: $(<"$BUILD/refused")" >&2
    exit 1
fi
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$BIN/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$BIN/"

# 6. The providers: the real ones when served, the stand-ins otherwise.
provider() {
    local name=$1 module=$2 version=$3 dir
    dir=$(module_dir "$module" "v$version")
    if [[ -n $dir ]]; then
        echo "build-engine: building $module@v$version"
        rm -rf "${BUILD:?}/${name:?}"
        mkdir -p "$BUILD/$name"
        (
            cd "$BUILD/$name"
            go mod init "webhost-infra/tools/$name" >/dev/null 2>&1
            go mod edit -require="$module@v$version"
            copy_replaces "$dir/go.mod"
            go mod tidy
            go build -trimpath -ldflags="-s -w" -o "$BIN/pulumi-resource-$name" "$module/cmd/pulumi-resource-$name"
        )
        return
    fi
    echo "build-engine: the module proxy refuses $module@v$version: $(<"$BUILD/refused")"
    echo "build-engine: installing the stand-in tools/providers/${name}_provider.py as pulumi-resource-$name"
    cat >"$BIN/pulumi-resource-$name" <<WRAPPER
#!/bin/sh
# Stand-in for pulumi-resource-$name $version (written by tools/build-engine.sh).
STANDIN_VERSION=$version exec "$VENV_PYTHON" "$ROOT/tools/providers/${name}_provider.py" "\$@"
WRAPPER
    chmod 0755 "$BIN/pulumi-resource-$name"
}
provider command github.com/pulumi/pulumi-command/provider "$COMMAND_VERSION"
provider random github.com/pulumi/pulumi-random/provider/v4 "$RANDOM_VERSION"

"$BIN/pulumi" version >"$TOOLS/engine-version"
echo "$STAMP" >"$TOOLS/stamp"
engine=$(<"$TOOLS/engine-version")
echo "build-engine: built pulumi $engine into .tools/bin in $((SECONDS - started))s"
