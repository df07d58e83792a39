#!/usr/bin/env bash
# Idempotent set-up shared by the README's two commands:
#   1. installs the Debian packages muse builds with (when missing),
#   2. fetches the pinned llama.cpp source from npm, verifies it, and applies
#      scripts/llama-cpp-patches (fixes of bugs in that tree, each with its reason and test),
#   3. builds the web app (web/: npm ci, vite build into web/dist, which the muse binary embeds),
#   4. configures and builds muse (and llama.cpp's static libraries) with CMake + Ninja + ccache,
#   5. installs the server tests' npm clients (package-lock.json) into node_modules.
# Environment:
#   MUSE_LLAMA_CPP_DIR   use this llama.cpp checkout instead of the pinned one
#   MUSE_BUILD_DIR       build folder (default: build)
#   MUSE_PORTABLE=1      build without -march=native
#   MUSE_SANITIZE=1      also build the sanitizer (ASan+UBSan) tree in build-asan, and the
#                        libFuzzer targets of tests/fuzz (clang, MUSE_FUZZ) in build-fuzz
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- 1. Debian packages -------------------------------------------------------
packages=(build-essential cmake ninja-build ccache git pkg-config nodejs npm
          nlohmann-json3-dev libcpp-httplib-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
          libsodium-dev libstb-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libedit-dev
          bubblewrap python3 python3-numpy python3-pandas python3-matplotlib python3-scipy
          python3-sklearn python3-pil python3-opencv
          libgumbo-dev libpoppler-cpp-dev libtesseract-dev libleptonica-dev tesseract-ocr-eng
          libhnswlib-dev fonts-dejavu-core clang libclang-rt-dev libomp-dev zlib1g-dev chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. nvm); accept any working npm.
if command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -ra missing <<<"${missing[*]:-}"
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. pinned llama.cpp source -------------------------------------------------
# shellcheck disable=SC1091
source <(grep -E '^[a-z0-9_]+=' scripts/llama-cpp.pin)
if [ -n "${MUSE_LLAMA_CPP_DIR:-}" ]; then
    llama_dir=$(cd "$MUSE_LLAMA_CPP_DIR" && pwd)
    log "using llama.cpp from MUSE_LLAMA_CPP_DIR=$llama_dir (not the pinned source)"
else
    deps="$root/.deps"
    llama_dir="$deps/llama.cpp"
    mkdir -p "$deps"
    have=$(git -C "$llama_dir" rev-parse HEAD 2>/dev/null || true)
    if [ "$have" != "$commit" ]; then
        tgz="$deps/${package/@/-}.tgz"
        if [ ! -f "$tgz" ] || ! echo "$tarball_sha256  $tgz" | sha256sum -c --status; then
            log "fetching $package from npm"
            (cd "$deps" && npm pack --silent "$package" >/dev/null)
        fi
        if ! echo "$tarball_sha256  $tgz" | sha256sum -c --status; then
            echo "error: $tgz does not match the sha256 in scripts/llama-cpp.pin ($tarball_sha256)." >&2
            echo "       The npm package changed or the download is corrupt; delete it and retry." >&2
            exit 1
        fi
        log "unpacking llama.cpp ($commit) from the package's gitRelease.bundle"
        rm -rf "$deps/pkg" "$llama_dir"
        mkdir -p "$deps/pkg"
        tar -xzf "$tgz" -C "$deps/pkg" package/llama/gitRelease.bundle
        git clone -q "$deps/pkg/package/llama/gitRelease.bundle" "$llama_dir" 2>/dev/null
        git -C "$llama_dir" -c advice.detachedHead=false checkout -q "$commit"
        rm -rf "$deps/pkg"
    fi
fi

# --- 2b. patches to the llama.cpp tree -------------------------------------------------
# Fixes of real bugs in the pinned tree, one file each in scripts/llama-cpp-patches (the reason
# and the upstream reference at its top). Applied once; a tree that already has one is left as
# it is. The pinned tree must take every patch; another tree (MUSE_LLAMA_CPP_DIR) gets each
# one that applies, and a warning for each one that does not.
for patch in "$root"/scripts/llama-cpp-patches/*.patch; do
    [ -e "$patch" ] || continue
    name=$(basename "$patch")
    if git -C "$llama_dir" apply --reverse --check "$patch" 2>/dev/null; then
        continue  # applied already
    fi
    if git -C "$llama_dir" apply --check "$patch" 2>/dev/null; then
        log "patching llama.cpp: $name"
        git -C "$llama_dir" apply "$patch"
        if ! git -C "$llama_dir" apply --reverse --check "$patch" 2>/dev/null; then
            echo "error: $llama_dir does not hold $name after applying it." >&2
            exit 1
        fi
    elif [ -n "${MUSE_LLAMA_CPP_DIR:-}" ]; then
        printf '\033[1;33m[setup] warning:\033[0m %s does not take %s (its code differs from the pinned tree).\n' \
               "$llama_dir" "$name" >&2
        printf '        muse may hit the bug the patch fixes (see its first lines); update that tree or\n' >&2
        printf '        unset MUSE_LLAMA_CPP_DIR to build on the pinned one.\n' >&2
    else
        echo "error: the pinned llama.cpp in $llama_dir does not take $name." >&2
        echo "       The tree was changed by hand: delete $llama_dir and run this script again." >&2
        exit 1
    fi
done

# --- 3. the web app -----------------------------------------------------------------
# web/dist is what `muse serve` embeds (docs/web.md): built before the C++ so the binary holds
# the current app. npm ci when the lock file is newer than the install; vite build when any
# source is newer than the last build's stamp (kept in node_modules: a file in dist would be
# embedded and served with the app).
if [ -f web/package-lock.json ]; then
    if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
        log "installing the web app's npm packages (npm ci in web/)"
        (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    stamp=web/node_modules/.muse-web-built
    if [ ! -f "$stamp" ] || [ -n "$(find web -path web/node_modules -prune -o -path web/dist -prune -o \
                                       -type f -newer "$stamp" -print -quit)" ]; then
        log "building the web app (vite build into web/dist)"
        (cd web && npm run --silent build >/dev/null)
        touch "$stamp"
    fi
fi

# --- 4. build -----------------------------------------------------------------------
configure_and_build() {  # dir, "targets", extra cmake args...
    local dir=$1 targets=$2; shift 2
    if [ ! -f "$dir/build.ninja" ]; then
        log "configuring $dir"
        cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
              -DMUSE_LLAMA_CPP_DIR="$llama_dir" \
              -DMUSE_PORTABLE="$([ "${MUSE_PORTABLE:-0}" = 1 ] && echo ON || echo OFF)" "$@" >/dev/null
    fi
    log "building $dir${targets:+ ($targets)}"
    # shellcheck disable=SC2086
    cmake --build "$dir" -j "$(nproc)" ${targets:+--target $targets}
}
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Relative paths in the ccache key let build, build-asan and clean clones share hits.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
configure_and_build "${MUSE_BUILD_DIR:-build}" ""
if [ "${MUSE_SANITIZE:-0}" = 1 ]; then
    # Only what the "sanitize"-labelled tests need.
    configure_and_build build-asan "muse muse-robustness-tests muse-store-tests muse-server-tests muse-sandbox-tests muse-mcp-tests muse-web-tests muse-vision-tests muse-redteam-rules-tests muse-redteam-tests muse-audit-seed muse-test-models" \
        -DMUSE_SANITIZE=ON -DMUSE_BUILD_BENCH=OFF
    # The fuzz targets (libFuzzer needs clang) and the test models they load: the "fuzz" label.
    CC=clang CXX=clang++ configure_and_build build-fuzz "muse-fuzz muse-test-models" \
        -DMUSE_FUZZ=ON -DMUSE_BUILD_BENCH=OFF
fi

# --- 5. npm clients for the server tests (tests/server) --------------------------------------
# npm ci writes node_modules/.package-lock.json: older than package-lock.json means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing the server tests' npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
