# Runs `batch-infer "$@"` in a KubernetesPodOperator pod, after writing the XCom value Airflow collects:
# {"output": …, "rejects": …, "summary": …}, the paths this shard writes, as JSON in /airflow/xcom/return.json.
# It is written first, so it exists even when the run fails (the XCom sidecar then never waits for a missing
# file), and `exec` leaves batch-infer as the container's main process, so it receives SIGTERM itself.
# The DAG passes this text as `sh -c <script> batch-infer <arguments…>`; XCOM_FILE overrides the path in tests.
set -eu
output=""
rejects=""
summary=""
shard=""
previous=""
for arg in "$@"; do
  case "$previous" in
    --output) output="$arg" ;;
    --rejects) rejects="$arg" ;;
    --summary) summary="$arg" ;;
    --shard) shard="$arg" ;;
  esac
  previous="$arg"
done
if [ -z "$output" ] || [ "$output" = "-" ]; then
  echo "xcom_wrapper: --output must name a file (a directory with --shard)" >&2
  exit 2
fi
# With --shard i/N, --output is a directory and the CLI writes part-0000i-of-0000N.csv in it. Anything but i/N
# is left alone: the CLI refuses it (exit 2).
case "$shard" in
  "" | *[!0-9/]* | /* | */ | */*/*) ;;
  */*) output="${output%/}/$(echo "$shard" | awk -F/ '{ printf "part-%05d-of-%05d.csv", $1, $2 }')" ;;
esac
# The CLI's defaults: <output without .csv>.rejects.csv and <output without .csv>.summary.json.
if [ -z "$rejects" ]; then rejects="${output%.csv}.rejects.csv"; fi
if [ -z "$summary" ]; then summary="${output%.csv}.summary.json"; fi
mkdir -p "$(dirname "$output")" "$(dirname "$rejects")" "$(dirname "$summary")"
xcom="${XCOM_FILE:-/airflow/xcom/return.json}"
mkdir -p "$(dirname "$xcom")"
printf '{"output": "%s", "rejects": "%s", "summary": "%s"}\n' "$output" "$rejects" "$summary" > "$xcom"
exec batch-infer "$@"
