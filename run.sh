#!/bin/sh
# Starts the OAuth server in the foreground; s6 runs this through the oauth-server service's run script.
# The server reads DATA_DIR/options.json, which the Supervisor writes from the Configuration tab.
# ADDON_APP_DIR and ADDON_BACKUP_BIN only exist so addon/ can run this same file outside the image.
set -eu

export DATA_DIR="${DATA_DIR:-/data}"
export PORT="${PORT:-8096}"
export HOST="${HOST:-0.0.0.0}"
app_dir="${ADDON_APP_DIR:-/app}"

# Data restored from a hot backup carries a consistent snapshot of the database: put it in place first.
"${ADDON_BACKUP_BIN:-/usr/local/bin/oauth-backup}" restore

cd "${app_dir}"
# Node reads these options only from its command line; the bench and the tests read them from this line.
# --max-semi-space-size=2: a 2 MiB young generation, about 20 MB less RSS under load for 3-5% more CPU per request.
# --v8-pool-size=1: one V8 worker thread (Node's default is four) for the background GC: 2-5% less CPU per request.
# --no-concurrent-recompilation: hot functions are optimised on the main thread. On the worker, the compiler's
# memory stayed in that thread's malloc arena: 20 MB more RSS under load, for no measured throughput.
# docs/benchmark.md has the measurements; the add-on's load is a few requests a minute, its code turns hot once.
exec node --max-semi-space-size=2 --v8-pool-size=1 --no-concurrent-recompilation "${app_dir}/dist/main.js"
