# Shared helpers for the project's scripts. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Installs Azurite from package.json (pinned) when node_modules is missing or stale.
ensure_azurite() {
  if [ ! -x "$ROOT/node_modules/.bin/azurite" ] || [ "$ROOT/package.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    echo "Installing Azurite (npm ci)..." >&2
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for_ports PORT...: true once every port on 127.0.0.1 accepts a connection, false after ~10 s.
wait_for_ports() {
  local port up
  for _ in $(seq 1 100); do
    up=1
    for port in "$@"; do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { up=0; break; }; done
    [ "$up" = 1 ] && return 0
    sleep 0.1
  done
  return 1
}

# start_azurite DATA_DIR BLOB QUEUE TABLE: starts Azurite on loopback and waits until it answers.
start_azurite() {
  local dir="$1" blob="$2" queue="$3" table="$4"
  mkdir -p "$dir"
  "$ROOT/node_modules/.bin/azurite" --skipApiVersionCheck --disableTelemetry --silent \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --blobPort "$blob" --queuePort "$queue" --tablePort "$table" --location "$dir" >"$dir/azurite.log" 2>&1 &
  AZURITE_PID=$!
  wait_for_ports "$blob" "$queue" "$table" || { echo "Azurite did not start; see $dir/azurite.log" >&2; return 1; }
}

# start_azurite_services DATA_DIR BLOB QUEUE TABLE: Blob, Queue and Table as three Azurite processes, in memory.
# In Azure they are separate services; in one Azurite process they share one Node event loop, so a long table
# transaction would hold up every queue send behind it, which Azure never does. Sets AZURITE_PIDS (blob queue table).
start_azurite_services() {
  local dir="$1" blob="$2" queue="$3" table="$4" common=(--skipApiVersionCheck --disableTelemetry --silent --inMemoryPersistence)
  mkdir -p "$dir"
  "$ROOT/node_modules/.bin/azurite-blob" "${common[@]}" --blobHost 127.0.0.1 --blobPort "$blob" >"$dir/azurite-blob.log" 2>&1 &
  AZURITE_PIDS="$!"
  "$ROOT/node_modules/.bin/azurite-queue" "${common[@]}" --queueHost 127.0.0.1 --queuePort "$queue" >"$dir/azurite-queue.log" 2>&1 &
  AZURITE_PIDS="$AZURITE_PIDS $!"
  "$ROOT/node_modules/.bin/azurite-table" "${common[@]}" --tableHost 127.0.0.1 --tablePort "$table" >"$dir/azurite-table.log" 2>&1 &
  AZURITE_PIDS="$AZURITE_PIDS $!"
  wait_for_ports "$blob" "$queue" "$table" || { echo "Azurite did not start; see $dir/azurite-*.log" >&2; return 1; }
}

azurite_connection_string() {
  local blob="$1" queue="$2" table="$3"
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
}

ensure_local_settings() {
  [ -f "$ROOT/local.settings.json" ] || cp "$ROOT/local.settings.sample.json" "$ROOT/local.settings.json"
}

build_app() {
  dotnet build "$ROOT/functions/Campaigns.Functions/Campaigns.Functions.csproj" -c Release -nologo -v q -clp:ErrorsOnly >&2
}
APP_DLL="$ROOT/functions/Campaigns.Functions/bin/Release/net10.0/Campaigns.Functions.dll"
