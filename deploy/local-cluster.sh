#!/usr/bin/env bash
# Try the cluster on one machine: starts one evolvd (no local workers) and N evolv-worker
# processes on loopback, all sharing a fresh secret, then prints where to look.
#   deploy/local-cluster.sh [N=2] [data-dir=./evolv-cluster-data]
# Ctrl-C stops everything (evolvd checkpoints its jobs first) and exits 0; the logs and the
# secret stay in <data-dir>.run/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2}
data=${2:-evolv-cluster-data}
bin=build/services
[ -x "$bin/evolvd" ] && [ -x "$bin/evolv-worker/evolv-worker" ] ||
  scripts/build --target evolvd --target evolv --target evolv-worker
run=$data.run
mkdir -p "$run"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/secret"
chmod 600 "$run/secret"
"$bin/evolvd" --data-dir "$data" --workers 0 --grpc-port 0 --http-port 0 \
  --cluster-port 0 --cluster-secret-file "$run/secret" --port-file "$run/ports" \
  2> "$run/evolvd.log" &
pids=($!)
# Ctrl-C in a terminal reaches every process of the group, so some may be gone already.
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait || true; }
trap stop EXIT
trap 'stop; exit 0' INT TERM
for _ in $(seq 100); do [ -s "$run/ports" ] && break; sleep 0.1; done
cluster=$(sed -n 's/^cluster=//p' "$run/ports")
grpc=$(sed -n 's/^grpc=//p' "$run/ports")
http=$(sed -n 's/^http=//p' "$run/ports")
for i in $(seq "$n"); do
  "$bin/evolv-worker/evolv-worker" --connect "127.0.0.1:$cluster" --secret-file "$run/secret" \
    2> "$run/worker-$i.log" &
  pids+=($!)
done
echo "evolvd: gRPC 127.0.0.1:$grpc, status page http://127.0.0.1:$http/, cluster port $cluster"
echo "$n workers joined (logs in $run). Submit a job:"
echo "  EVOLV_SERVER=127.0.0.1:$grpc build/services/evolv submit examples/exp2-quick.json"
echo "Ctrl-C to stop."
wait "${pids[0]}"
