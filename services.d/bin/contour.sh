#!/bin/bash
# contour.sh DEM INTERVAL - contour lines of DEM every INTERVAL as contours.geojson, attribute
# "elev"; GDAL's "0...10...20" progress one step a line, as in hillshade.sh.
set -o pipefail
gdal_contour -a elev -i "$2" -f GeoJSON "$1" contours.geojson | stdbuf -o0 tr -s '.' '\n'
