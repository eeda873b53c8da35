#!/usr/bin/env bash
# The multi-region example, end to end, against the local sandbox (no AWS account): start the
# sandbox, bake app 1.0.0 in us-east-1, apply (copy to eu-west-1, share, fleets in both regions),
# bake app 1.1.0, plan and apply (a new copy, a rollout in each region), stop.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${SANDBOX_PORT:-4566}"
export RECONCILER_IMAGE_POLL="${RECONCILER_IMAGE_POLL:-1}"
rc() { echo; echo "\$ reconciler $*"; reconciler --chdir "$here" "$@"; }

rm -rf "$here/.reconciler/state.json" "$here/.reconciler/state.json.backup"
if ! rc sandbox start --port "$port"; then
  echo "The sandbox could not start on port $port. If another program uses that port, run again" \
    "on a free one: SANDBOX_PORT=4577 bash $0" >&2
  exit 1
fi
trap 'reconciler --chdir "$here" sandbox stop >/dev/null 2>&1 || true' EXIT
# the sandbox's endpoint, region and dummy credentials, as boto3 reads them (AWS_ENDPOINT_URL, ...)
echo; echo '$ eval "$(reconciler sandbox env)"'
eval "$(reconciler --chdir "$here" sandbox env)"
rc sandbox bake app 1.0.0
rc plan
rc apply --auto-approve
rc plan --detailed-exitcode
rc sandbox bake app 1.1.0
set +e
rc plan --detailed-exitcode
code=$?
set -e
[ "$code" -eq 2 ] || { echo "expected pending changes (exit 2) after the new AMI, got $code"; exit 1; }
rc apply --auto-approve
rc plan --detailed-exitcode
rc output
echo
echo "Multi-region example complete: both regions run app 1.1.0 (eu-west-1 on its encrypted copy)."
