// The load of an agent over the last minutes as a small inline SVG, drawn here from numbers only.

import { svg } from './dom.js';

const WIDTH = 120;
const HEIGHT = 28;

/** Points of a polyline: `values` (0…1, oldest first) spread over the width, 1 at the top. */
function points(values) {
  const step = values.length > 1 ? WIDTH / (values.length - 1) : 0;
  return values.map((value, i) => `${(i * step).toFixed(1)},${(HEIGHT - Math.min(1, Math.max(0, value)) * (HEIGHT - 2) - 1).toFixed(1)}`).join(' ');
}

/**
 * Running jobs per slot (filled) and load average per core (line), each at most 1; the title says
 * what the last sample was, since a sparkline has no axis.
 */
export function loadSparkline(history, cores) {
  const busy = history.map((s) => (s.slots > 0 ? s.running / s.slots : 0));
  const load = history.map((s) => s.load1 / Math.max(1, cores));
  const last = history.at(-1);
  const title = last
    ? `${history.length} samples since ${new Date(history[0].at).toLocaleTimeString()}; last: ${last.running} of ${last.slots} slots busy, load ${last.load1.toFixed(2)}`
    : 'no sample yet';
  const series = history.length === 1 ? [...busy, ...busy] : busy;
  const loads = history.length === 1 ? [...load, ...load] : load;
  return svg(
    'svg',
    { class: 'sparkline', width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': title },
    svg('title', {}, title),
    series.length ? svg('polygon', { class: 'busy', points: `0,${HEIGHT} ${points(series)} ${WIDTH},${HEIGHT}` }) : null,
    loads.length ? svg('polyline', { class: 'load', points: points(loads) }) : null,
  );
}
