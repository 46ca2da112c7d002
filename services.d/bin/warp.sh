#!/bin/bash
# warp.sh RASTER SRS - RASTER reprojected to SRS (e.g. EPSG:4326) as warped.tif; GDAL's
# "0...10...20" progress one step a line, as in hillshade.sh.
set -o pipefail
gdalwarp -overwrite -t_srs "$2" -of GTiff "$1" warped.tif | stdbuf -o0 tr -s '.' '\n'
