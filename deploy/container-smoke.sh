#!/usr/bin/env bash
# Build the txclassify image offline with podman, run it read-only, check /readyz and one real
# classification, then clean up. CI runs this (through tests/deploy/test_container.py).
#
# Usage: deploy/container-smoke.sh [--bundle DIR] [--keep-image]
#   --bundle DIR   bake this one bundle directory instead of the repository's models/ (e.g. a tiny
#                  bundle from `python -m tests.fixtures.tiny_bundle DIR`); default: models/ with the
#                  bundle named by models/index.json "default".
#   --keep-image   leave the built image in the private storage (the container is always removed).
# Environment:
#   BASE                 base image for both stages; default: a local bookworm image made here with
#                        debootstrap --variant=minbase (+ python3, python3-venv) and `podman import`.
#   TXC_PODMAN_STATE     private podman storage/config dir (default ${TMPDIR:-/tmp}/txclassify-podman).
#   DEBIAN_MIRROR        mirror for debootstrap (default: the one in this machine's apt sources).
#   PYTHON               python used to build the wheel and download the wheelhouse (default .venv's).
#   TXC_SMOKE_READY_TIMEOUT_S  how long to wait for /readyz (default 180).
# Needs root, podman, runc, debootstrap (deploy/install-test-deps.sh installs them).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle_dir=""
keep_image=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bundle) bundle_dir="$(cd "$2" && pwd)"; shift 2 ;;
        --keep-image) keep_image=1; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

state="${TXC_PODMAN_STATE:-${TMPDIR:-/tmp}/txclassify-podman}"
python="${PYTHON:-${repo}/.venv/bin/python}"
[[ -x "${python}" ]] || python="python3"
ready_timeout="${TXC_SMOKE_READY_TIMEOUT_S:-180}"
image="localhost/txclassify:smoke"
container="txclassify-smoke-$$"
base_image="localhost/txclassify-base:bookworm"

log() { printf '[container-smoke] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for tool in podman runc; do
    command -v "${tool}" >/dev/null || die "${tool} not found: run deploy/install-test-deps.sh"
done

# --- podman configuration: runc (crun fails on this host's cgroups/rlimits), lowered ulimits,
# private storage, no search registries, so nothing can ever be pulled by a short name.
mkdir -p "${state}/storage" "${state}/run" "${state}/tmp"
cat >"${state}/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
image_default_transport = "containers-storage:"
EOF
cat >"${state}/registries.conf" <<'EOF'
unqualified-search-registries = []
short-name-mode = "enforcing"
EOF
cat >"${state}/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "${state}/storage"
runroot = "${state}/run"
EOF
export CONTAINERS_CONF="${state}/containers.conf"
export CONTAINERS_REGISTRIES_CONF="${state}/registries.conf"
export CONTAINERS_STORAGE_CONF="${state}/storage.conf"
export TMPDIR="${state}/tmp"

# --- base image
if [[ -z "${BASE:-}" ]]; then
    BASE="${base_image}"
    if ! podman image exists "${BASE}"; then
        command -v debootstrap >/dev/null || die "debootstrap not found: run deploy/install-test-deps.sh"
        rootfs="${state}/rootfs-bookworm"
        rm -rf "${rootfs}"
        log "debootstrap --variant=minbase bookworm (python3, python3-venv) into ${rootfs}"
        # The mirror this machine's apt already uses (deb822 or one-line sources), unless overridden.
        mirror="${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
        [[ -n "${mirror}" ]] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
        [[ -n "${mirror}" ]] || die "no Debian mirror found in apt's sources: set DEBIAN_MIRROR"
        debootstrap --variant=minbase --include=python3,python3-venv bookworm "${rootfs}" \
            "${mirror}" >"${state}/debootstrap.log" 2>&1 \
            || { tail -20 "${state}/debootstrap.log" >&2; die "debootstrap failed"; }
        # Trim what a runtime base never needs: apt caches and lists, docs, man pages, locales.
        rm -rf "${rootfs}"/var/cache/apt/* "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/usr/share/doc/* \
            "${rootfs}"/usr/share/man/* "${rootfs}"/usr/share/info/* "${rootfs}"/usr/share/locale/* \
            "${rootfs}"/var/log/*.log "${rootfs}"/var/cache/debconf/*-old
        tar -C "${rootfs}" -c . | podman import \
            --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "${BASE}" >"${state}/import.log" 2>&1 || { cat "${state}/import.log" >&2; die "podman import failed"; }
        rm -rf "${rootfs}"
        log "base image ${BASE}: $(podman image inspect --format '{{.Size}}' "${BASE}") bytes"
    fi
fi

# --- wheelhouse: the txclassify wheel (built from service/ only, not training/) plus its runtime
# dependencies as binary wheels, pinned to the versions in the project venv when there is one.
wheelhouse="${repo}/wheelhouse"
mkdir -p "${wheelhouse}"
src="${state}/src"
rm -rf "${src}" && mkdir -p "${src}"
cp "${repo}/pyproject.toml" "${src}/"
cp -r "${repo}/service" "${src}/service"
find "${src}" -name '__pycache__' -prune -exec rm -rf {} +
if [[ -f "${repo}/README.md" ]]; then cp "${repo}/README.md" "${src}/"; else echo "# txclassify" >"${src}/README.md"; fi
rm -f "${wheelhouse}"/txclassify-*.whl
log "building the txclassify wheel"
"${python}" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "${wheelhouse}" "${src}" \
    >"${state}/wheel.log" 2>&1 || { cat "${state}/wheel.log" >&2; die "building the txclassify wheel failed"; }
constraints="${state}/constraints.txt"
: >"${constraints}"
if [[ -x "${repo}/.venv/bin/python" ]]; then
    "${repo}/.venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check 2>/dev/null \
        | grep -E '^[A-Za-z0-9_.-]+==' | grep -v -i '^txclassify==' >"${constraints}" || true
fi
log "downloading runtime wheels into ${wheelhouse}"
"${python}" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    -c "${constraints}" -d "${wheelhouse}" "${wheelhouse}"/txclassify-*.whl 2>&1 | grep -v '^WARNING: Location' || true
ls "${wheelhouse}"/onnxruntime-*.whl >/dev/null 2>&1 || die "wheelhouse download failed"

# --- build context: the repository root (honours .dockerignore), or a staged one for --bundle
context="${repo}"
if [[ -n "${bundle_dir}" ]]; then
    default_bundle="$(basename "${bundle_dir}")"
    context="${state}/context"
    rm -rf "${context}" && mkdir -p "${context}/models"
    cp "${repo}/Dockerfile" "${repo}/.dockerignore" "${context}/"
    cp -r "${wheelhouse}" "${context}/wheelhouse"
    cp -r "${bundle_dir}" "${context}/models/${default_bundle}"
    printf '{"default": "%s", "bundles": []}\n' "${default_bundle}" >"${context}/models/index.json"
else
    [[ -f "${repo}/models/index.json" ]] || die "models/index.json missing: build the model or pass --bundle DIR"
    default_bundle="$("${python}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["default"])' "${repo}/models/index.json")"
    [[ -f "${repo}/models/${default_bundle}/model.onnx" ]] || die "models/${default_bundle}/model.onnx missing"
fi

log "podman build (BASE=${BASE}, bundle ${default_bundle}, no network)"
build_start=$(date +%s)
podman build --pull=never --network=none --format docker \
    --build-arg "BASE=${BASE}" --build-arg "DEFAULT_BUNDLE=${default_bundle}" \
    --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --build-arg "VERSION=$("${python}" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "${repo}/pyproject.toml")" \
    --build-arg "REVISION=$(git -C "${repo}" rev-parse HEAD 2>/dev/null || echo unknown)" \
    -f "${context}/Dockerfile" -t "${image}" "${context}" >"${state}/build.log" 2>&1 \
    || { tail -30 "${state}/build.log" >&2; die "podman build failed (log: ${state}/build.log)"; }
log "built in $(( $(date +%s) - build_start )) s"

cleanup() {
    podman rm --force --ignore "${container}" >/dev/null 2>&1 || true
    if [[ "${keep_image}" -eq 0 ]]; then
        podman rmi --force "${image}" >/dev/null 2>&1 || true
        # Intermediate build layers: the tagged base image stays cached for the next run.
        podman image prune --force >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

size_bytes="$(podman image inspect --format '{{.Size}}' "${image}")"
echo "IMAGE_SIZE_BYTES=${size_bytes}"
echo "IMAGE_SIZE_MB=$(( size_bytes / 1000000 ))"
echo "IMAGE_USER=$(podman image inspect --format '{{.Config.User}}' "${image}")"

# --- static checks inside the image (read-only too): no torch, no compiler, non-root.
podman run --rm --pull=never --network=none --read-only --tmpfs /tmp --no-healthcheck --entrypoint python3 "${image}" -c '
import importlib.util, os, shutil, sys
assert os.getuid() == 10001, f"uid {os.getuid()}"
assert importlib.util.find_spec("torch") is None, "torch is installed"
compilers = [c for c in ("gcc", "cc", "c++", "g++", "clang") if shutil.which(c)]
assert not compilers, f"compilers in the runtime image: {compilers}"
assert shutil.which("txclassify") and not shutil.which("txclassify-train"), "serving CLI only"
import onnxruntime, service
print("IMAGE_CHECKS=ok uid=10001 torch=absent compilers=none cli=txclassify onnxruntime=" + onnxruntime.__version__)
'

# --- run it read-only on a free loopback port and wait for readiness
port="$("${python}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
podman run -d --pull=never --name "${container}" --network=host --read-only --tmpfs /tmp \
    --cap-drop=ALL --security-opt=no-new-privileges --health-interval=disable \
    -e "TXC_HOST=127.0.0.1" -e "TXC_PORT=${port}" \
    "${image}" >/dev/null 2>"${state}/podman-run.err" \
    || { cat "${state}/podman-run.err" >&2; die "podman run failed"; }
base_url="http://127.0.0.1:${port}"
deadline=$(( $(date +%s) + ready_timeout ))
ready_start=$(date +%s)
until curl -fsS "${base_url}/readyz" >/dev/null 2>&1; do
    if [[ "$(podman inspect --format '{{.State.Running}}' "${container}")" != "true" ]]; then
        podman logs "${container}" >&2 || true
        die "container exited before becoming ready"
    fi
    if [[ $(date +%s) -ge ${deadline} ]]; then
        podman logs "${container}" >&2 || true
        die "/readyz not ready after ${ready_timeout} s"
    fi
    sleep 1
done
echo "READY_AFTER_S=$(( $(date +%s) - ready_start ))"
echo "READYZ=$(curl -fsS "${base_url}/readyz")"
# The image's own HEALTHCHECK (no systemd timer here: run it once by hand).
podman healthcheck run "${container}" >/dev/null || die "the image's HEALTHCHECK failed"
echo "HEALTHCHECK=healthy"

# --- one real classification through the public API
response="$(curl -fsS -X POST "${base_url}/v1/classify" -H 'content-type: application/json' \
    --data '{"transactions": [{"id": "smoke-1", "text": "TESCO STORES 2231 LONDON GB"}]}')" \
    || { podman logs "${container}" >&2; die "POST /v1/classify failed"; }
echo "CLASSIFY=${response}"
"${python}" - "${response}" <<'PY'
import json
import sys

body = json.loads(sys.argv[1])
results = body["results"]
assert len(results) == 1, body
result = results[0]
assert result["id"] == "smoke-1", result
assert isinstance(result["label"], str) and result["label"], result
assert 0.0 <= float(result["confidence"]) <= 1.0, result
PY
metrics_text="$(curl -fsS "${base_url}/metrics")"
queue_wait_count="$(grep -E '^txclassify_queue_wait_seconds_count ' <<<"${metrics_text}" | awk '{print $2}')"
[[ -n "${queue_wait_count}" ]] || die "/metrics does not export txclassify_queue_wait_seconds"
echo "METRICS txclassify_queue_wait_seconds_count=${queue_wait_count}"

# --- the bulk-scoring Job's command, as the chart runs it: read-only root, one shard on a volume
shards="${state}/shards"
rm -rf "${shards}" && mkdir -p "${shards}/input" "${shards}/output"
printf '%s\n' '{"id": "a", "text": "TESCO STORES 2231 LONDON GB"}' '{"id": "b", "text": "SALARY ACME LTD"}' \
    >"${shards}/input/shard-0.jsonl"
chmod -R a+rwX "${shards}"
podman run --rm --pull=never --network=none --read-only --tmpfs /tmp --no-healthcheck \
    --cap-drop=ALL --security-opt=no-new-privileges -v "${shards}:/data:Z" \
    "${image}" score /data/input/shard-0.jsonl --output /data/output/shard-0.jsonl --quiet \
    >"${state}/score.log" 2>&1 || { cat "${state}/score.log" >&2; die "txclassify score failed in the image"; }
scored_rows="$(wc -l <"${shards}/output/shard-0.jsonl")"
[[ "${scored_rows}" -eq 2 ]] || die "bulk score wrote ${scored_rows} rows, expected 2"
echo "BULK_SCORE_ROWS=${scored_rows}"
rm -rf "${shards}"

# --- graceful stop: SIGTERM must end the process cleanly well inside the grace period
stop_start=$(date +%s)
podman stop --time 30 "${container}" >/dev/null 2>>"${state}/podman-run.err"
echo "STOP_SECONDS=$(( $(date +%s) - stop_start ))"
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "${container}")"
echo "STOP_EXIT_CODE=${exit_code}"
[[ "${exit_code}" == "0" ]] || { podman logs "${container}" >&2; die "exit code ${exit_code} after SIGTERM"; }
echo "SMOKE=passed"
