#!/bin/bash
# hillshade.sh DEM Z AZIMUTH - shaded relief of DEM as shade.png. GDAL prints its progress as
# "0...10...20"; each step goes out on a line of its own as it comes, so the agent reports it.
set -o pipefail
gdaldem hillshade -of PNG -compute_edges -z "$2" -az "$3" "$1" shade.png | stdbuf -o0 tr -s '.' '\n'
