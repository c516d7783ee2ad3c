#!/usr/bin/env bash
# One full Sentinel-2 tile (10980 x 10980 px, 10 bands, uint16) masked with `fast` by the CLI,
# from a local COG to a GeoTIFF: prints the time and the peak memory (VmHWM).
# The input COG is a mosaic of ../shared/data/t31tdh-20150726/stack10.tif (300 x 300) repeated
# 37 x 37 times, built once with GDAL into ${WORK:-/tmp/s2cm-fulltile}.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${WORK:-/tmp/s2cm-fulltile}"
src="$(cd ../shared/data/t31tdh-20150726 && pwd)/stack10.tif"
size=10980
mkdir -p "$work"
command -v gdal_translate >/dev/null || { echo "needs gdal-bin (apt-get install -y gdal-bin)" >&2; exit 1; }

if [ ! -f "$work/tile.tif" ]; then
  vrt="$work/tile.vrt"
  {
    echo "<VRTDataset rasterXSize=\"$size\" rasterYSize=\"$size\">"
    gdalsrsinfo -o wkt "$src" | tr -d '\n' | sed 's/^/<SRS>/; s/$/<\/SRS>\n/' | sed 's/&/\&amp;/g'
    echo "<GeoTransform>399960, 10, 0, 4693200, 0, -10</GeoTransform>"
    for b in $(seq 1 10); do
      echo "<VRTRasterBand dataType=\"UInt16\" band=\"$b\">"
      for ty in $(seq 0 36); do for tx in $(seq 0 36); do
        echo "<SimpleSource><SourceFilename relativeToVRT=\"0\">$src</SourceFilename><SourceBand>$b</SourceBand><SrcRect xOff=\"0\" yOff=\"0\" xSize=\"300\" ySize=\"300\"/><DstRect xOff=\"$((tx*300))\" yOff=\"$((ty*300))\" xSize=\"300\" ySize=\"300\"/></SimpleSource>"
      done; done
      echo "</VRTRasterBand>"
    done
    echo "</VRTDataset>"
  } > "$vrt"
  echo "building $work/tile.tif (10 x ${size} x ${size} uint16 COG) ..."
  start=$(date +%s)
  gdal_translate -q -of COG -co COMPRESS=DEFLATE -co LEVEL=1 -co NUM_THREADS=ALL_CPUS -co BIGTIFF=YES "$vrt" "$work/tile.tif"
  echo "built in $(( $(date +%s) - start )) s: $(du -h "$work/tile.tif" | cut -f1)"
fi

dotnet build -c Release src/Cli -nologo -v q >/dev/null
cli="src/Cli/bin/Release/net10.0/s2cloudmask.dll"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$cli" mask "$work/tile.tif" "$work/mask.tif" --model "${MODEL:-fast}" ${MODELS:+--models "$MODELS"}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
gdalinfo "$work/mask.tif" | grep -E "Size is|Block=" | head -2
