#!/usr/bin/env bash
# Checks GPU jobs on a machine with an NVIDIA GPU and its driver (as root): starts mk (`mk up`,
# unless it is already running), shows the node's nvidia.com/gpu capacity, then runs a Job that
# asks for one GPU and prints what its pod sees: its /dev/nvidia* devices, NVIDIA_VISIBLE_DEVICES
# and nvidia-smi's report. Exit 0 when the Job completed.
#
# The image is busybox unless MK_GPU_CHECK_IMAGE names another one the node has. nvidia-smi is
# linked against glibc: in an image without it (Debian's static busybox) the pod still shows its
# devices and environment, and nvidia-smi fails with "not found".
set -euo pipefail
cd "$(dirname "$0")/.."
mk() { node bin/run.js "$@"; }
image="${MK_GPU_CHECK_IMAGE:-busybox}"

if ! ls "${MK_GPU_DEV_ROOT:-/dev}"/nvidia[0-9]* >/dev/null 2>&1; then
  echo "gpu-check: this machine has no /dev/nvidiaN: no NVIDIA GPU, or its driver is not loaded" >&2
  exit 1
fi
mk get nodes >/dev/null 2>&1 || mk up --no-demo
echo "--- node capacity"
mk get nodes -o json | node -e '
  let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
    for (const n of JSON.parse(s).items) console.log(`${n.metadata.name}: nvidia.com/gpu=${n.status?.capacity?.["nvidia.com/gpu"] ?? 0}`);
  });'

mk delete job gpu-check --ignore-not-found >/dev/null 2>&1 || true
mk apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: gpu-check
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: ${image}
          command: ["sh", "-c", "ls -l /dev/nvidia*; echo NVIDIA_VISIBLE_DEVICES=\$NVIDIA_VISIBLE_DEVICES; nvidia-smi"]
          resources:
            limits:
              nvidia.com/gpu: 1
YAML

status=0
mk wait --for=condition=Complete job/gpu-check --timeout=300s || status=1
pod="$(mk get pods -l batch.kubernetes.io/job-name=gpu-check -o name | head -n 1)"
echo "--- output of ${pod}"
[ -n "$pod" ] && mk logs "$pod" || true
[ "$status" = 0 ] && echo "gpu-check: the Job completed" || echo "gpu-check: the Job did not complete (mk describe ${pod:-job/gpu-check})" >&2
exit "$status"
