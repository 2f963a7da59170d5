#!/usr/bin/env bash
# Generates the meterd.v1 client stubs for TypeScript, Go and Java from protos/meterd/v1 (DESIGN.md §7),
# and optionally builds each language's smoke program.
#
#   bash scripts/stubs.sh                 generate all three languages (what `make stubs` runs)
#   bash scripts/stubs.sh ts go           generate only some of them (ts, go, java)
#   bash scripts/stubs.sh --build         generate, then build the smoke programs
#   bash scripts/stubs.sh --build-only    build only, from the committed generated code (what the tests need)
#   bash scripts/stubs.sh --check         generate, then fail if the output differs from what git has
#
# Every generator is pinned and comes from a package registry:
#   protoc         grpcio-tools (PyPI, pinned in pyproject.toml) as `python -m grpc_tools.protoc`, for TS and Go;
#                  com.google.protobuf:protoc (Maven Central) for Java, at the same protobuf release;
#   TypeScript     ts-proto from npm, pinned in stubs/typescript/package.json + package-lock.json;
#   Go             protoc-gen-go and protoc-gen-go-grpc from the Go module proxy (`go install ...@vX`);
#   Java           protoc-gen-grpc-java from Maven Central, fetched by Maven (pinned in stubs/java/pom.xml).
# Output is committed; regenerating must give byte-identical files (CI checks with --check).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# --- pinned versions --------------------------------------------------------------------------------
PROTOC_GEN_GO_VERSION=v1.36.12      # google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2   # google.golang.org/grpc/cmd/protoc-gen-go-grpc
# Java: protoc and protoc-gen-grpc-java versions live in stubs/java/pom.xml (properties protoc.version and
# grpc.version); ts-proto's in stubs/typescript/package.json.

PY="${METERD_PYTHON:-$ROOT/.venv/bin/python}"
MVN_FLAGS=(-q -B -Dstyle.color=never)
[[ -n "${MAVEN_OFFLINE:-}" ]] && MVN_FLAGS+=(-o)

# Debian's Maven writes stray colour resets even when quiet; drop them (pipefail keeps mvn's exit status).
mvn_q() { mvn "${MVN_FLAGS[@]}" "$@" 2>&1 | sed -u $'s/\x1b\\[0m//g'; }

log() { printf '[stubs] %s\n' "$*" >&2; }
timed() {  # timed LABEL cmd...: runs cmd and logs how long it took
  local label=$1; shift
  local t0=$SECONDS
  "$@"
  log "$label: $((SECONDS - t0))s"
}

BUILD=0 GENERATE=1 CHECK=0 LANGS=()
for arg in "$@"; do
  case "$arg" in
    --build) BUILD=1 ;;
    --build-only) BUILD=1 GENERATE=0 ;;
    --check) CHECK=1 ;;
    ts|go|java) LANGS+=("$arg") ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (want ts, go, java, --build, --build-only, --check)" >&2; exit 2 ;;
  esac
done
[[ ${#LANGS[@]} -eq 0 ]] && LANGS=(ts go java)

mapfile -t PROTO_FILES < <(cd protos && LC_ALL=C ls meterd/v1/*.proto | LC_ALL=C sort)

grpc_protoc() {
  [[ -x "$PY" ]] || { echo "no Python at $PY: run 'make setup' (the venv has grpcio-tools) or set METERD_PYTHON" >&2; exit 1; }
  local wkt
  wkt="$("$PY" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"
  "$PY" -m grpc_tools.protoc -I protos -I "$wkt" "$@"
}

# --- TypeScript (Node, @grpc/grpc-js) ----------------------------------------------------------------
TS=stubs/typescript
ts_deps() {
  if [[ ! -x $TS/node_modules/.bin/tsc || $TS/package-lock.json -nt $TS/node_modules/.package-lock.json ]]; then
    (cd $TS && npm ci --no-audit --no-fund --silent)
  fi
}
gen_ts() {
  ts_deps
  rm -rf $TS/gen
  mkdir -p $TS/gen
  grpc_protoc \
    --plugin=protoc-gen-ts_proto="$ROOT/$TS/node_modules/.bin/protoc-gen-ts_proto" \
    --ts_proto_out=$TS/gen \
    --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true,oneof=unions,useDate=true \
    "${PROTO_FILES[@]}"
}
build_ts() {
  ts_deps
  (cd $TS && node_modules/.bin/tsc -p tsconfig.json)
}

# --- Go ------------------------------------------------------------------------------------------------
GO=stubs/go
gen_go() {
  local bin="$ROOT/$GO/.bin"
  # go install with an exact version is reproducible (go.sum checked against the checksum database).
  if [[ "$("$bin/protoc-gen-go" --version 2>/dev/null)" != "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]]; then
    GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  fi
  if [[ "$("$bin/protoc-gen-go-grpc" --version 2>/dev/null)" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]]; then
    GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  fi
  rm -rf $GO/meterd
  grpc_protoc \
    --plugin=protoc-gen-go="$bin/protoc-gen-go" \
    --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
    --go_out=$GO --go_opt=module=meterd.dev/stubs/go \
    --go-grpc_out=$GO --go-grpc_opt=module=meterd.dev/stubs/go \
    "${PROTO_FILES[@]}"
}
build_go() {
  (cd $GO && go build -o bin/smoke ./cmd/smoke && go build -o bin/watch ./cmd/watch && go vet ./...)
}

# --- Java (grpc-java) ----------------------------------------------------------------------------------
JAVA=stubs/java
protoc_classifier() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo linux-x86_64 ;;
    Linux-aarch64|Linux-arm64) echo linux-aarch_64 ;;
    Darwin-x86_64) echo osx-x86_64 ;;
    Darwin-arm64) echo osx-aarch_64 ;;
    *) echo "no protoc for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
  esac
}
gen_java() {
  # protoc, protoc-gen-grpc-java and protobuf-java (for google/protobuf/*.proto) come from Maven Central at
  # the versions pinned in stubs/java/pom.xml (execution fetch-codegen).
  local codegen="$ROOT/$JAVA/target/codegen"
  mvn_q -f $JAVA/pom.xml dependency:copy@fetch-codegen -Dprotoc.classifier="$(protoc_classifier)"
  chmod +x "$codegen/protoc" "$codegen/protoc-gen-grpc-java"
  rm -rf "$codegen/include" && mkdir -p "$codegen/include"
  (cd "$codegen/include" && jar xf ../protobuf-java.jar google/protobuf)
  rm -rf $JAVA/src/main/generated
  mkdir -p $JAVA/src/main/generated
  "$codegen/protoc" -I protos -I "$codegen/include" \
    --plugin=protoc-gen-grpc-java="$codegen/protoc-gen-grpc-java" \
    --java_out=$JAVA/src/main/generated \
    --grpc-java_out=$JAVA/src/main/generated \
    "${PROTO_FILES[@]}"
}
build_java() {
  mvn_q -f $JAVA/pom.xml package
}

for lang in "${LANGS[@]}"; do
  if [[ $GENERATE == 1 ]]; then timed "generate $lang" "gen_$lang"; fi
  if [[ $BUILD == 1 ]]; then timed "build $lang" "build_$lang"; fi
done

if [[ $CHECK == 1 ]]; then
  paths=()
  for lang in "${LANGS[@]}"; do
    case $lang in
      ts) paths+=($TS/gen) ;;
      go) paths+=($GO/meterd) ;;
      java) paths+=($JAVA/src/main/generated) ;;
    esac
  done
  git diff --exit-code --stat -- "${paths[@]}" \
    || { echo "generated stubs drifted from protos/: run 'bash scripts/stubs.sh' and commit" >&2; exit 1; }
  untracked="$(git status --porcelain --untracked-files=all -- "${paths[@]}")"
  [[ -z "$untracked" ]] || { echo "$untracked"; echo "untracked generated stubs: run 'bash scripts/stubs.sh' and commit" >&2; exit 1; }
  log "generated stubs match git"
fi
