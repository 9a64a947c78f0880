#!/usr/bin/env bash
# Installs the Debian packages RoadTwin needs, only those missing. Idempotent.
# PostgreSQL server + PostGIS + pgRouting (the embedded cluster, and pgRouting as the
# routing reference in tests/benchmarks), Chromium + chromedriver (twin checks in a real
# browser), osm2pgsql/osm2pgrouting/osmium (import peers in benchmarks), wrk (HTTP load).
set -euo pipefail

ver=""
if command -v pg_config >/dev/null 2>&1; then ver=$(pg_config --version | sed -E 's/[^0-9]*([0-9]+).*/\1/'); fi
if [ -z "$ver" ]; then ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true); fi
[ -n "$ver" ] || ver=15

want=(postgresql-"$ver" postgresql-"$ver"-postgis-3 postgresql-"$ver"-pgrouting postgresql-client-"$ver"
      chromium chromium-driver fonts-noto-cjk osm2pgsql osm2pgrouting osmium-tool wrk gdal-bin)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "system packages: all present"; exit 0; fi

echo "system packages missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run  sudo apt-get install -y ${missing[*]}  (or set TWIN_DATABASE_URL to an existing PostGIS)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
