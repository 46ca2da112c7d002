import { expect } from 'chai';
import { buildArgv } from '../../agent/runner/build-argv.js';
import type { ArgumentItem, ServiceDefinition } from '../../agent/services/service-definition.js';

const inputs: ServiceDefinition['inputs'] = {
  src: { type: 'string' },
  bands: { type: 'integer', minOccurs: 1, maxOccurs: 3, required: true },
  zoom: { type: 'integer', required: false },
  quiet: { type: 'boolean', required: false },
  aoi: { type: 'bbox', required: false },
  options: { type: 'object', required: false },
};

const input = (name: string, template: string, separator?: string): ArgumentItem => ({
  kind: 'input',
  input: name,
  template: template.split(' '),
  ...(separator === undefined ? {} : { separator }),
});
const word = (text: string): ArgumentItem => ({ kind: 'word', word: text });

function service(items: ArgumentItem[], extra: Partial<ServiceDefinition> = {}) {
  return { argFormat: '--{key}={value}' as const, customArgs: ['ignored'], inputs, arguments: items, ...extra };
}

describe('buildArgv with an argument list', () => {
  const gdal = service([
    word('translate'),
    input('quiet', '-q'),
    input('bands', '-b {value}'),
    input('zoom', '-z {value}'),
    input('aoi', '-te {value}'),
    input('src', '{value}'),
    word('out.tif'),
  ]);

  it('places fixed words and inputs in order, repeating a template per array value; an absent input adds nothing', () => {
    expect(buildArgv(gdal, { src: 'dem.tif', bands: [1, 3] })).to.deep.equal({
      ok: true,
      args: ['translate', '-b', '1', '-b', '3', 'dem.tif', 'out.tif'],
    });
  });

  it('takes one bare value of an array input as its only value', () => {
    expect(buildArgv(gdal, { src: 'dem.tif', bands: 2 })).to.deep.include({ args: ['translate', '-b', '2', 'dem.tif', 'out.tif'] });
  });

  it('joins the values of an array input with its separator', () => {
    const joined = service([input('bands', '--bands={value}', ',')]);
    expect(buildArgv(joined, { src: 'x', bands: [1, 2, 3] })).to.deep.equal({ ok: true, args: ['--bands=1,2,3'] });
  });

  it('gives a flag for a true boolean and nothing for a false one, unless the template holds {value}', () => {
    expect(buildArgv(gdal, { src: 'a', bands: [1], quiet: true })).to.deep.include({ args: ['translate', '-q', '-b', '1', 'a', 'out.tif'] });
    expect(buildArgv(gdal, { src: 'a', bands: [1], quiet: false })).to.deep.include({ args: ['translate', '-b', '1', 'a', 'out.tif'] });
    const valued = service([input('quiet', '--quiet={value}')]);
    expect(buildArgv(valued, { src: 'a', bands: [1], quiet: false })).to.deep.include({ args: ['--quiet=false'] });
  });

  it('spreads a bounding box over four words where a word is {value}, negative numbers included', () => {
    const box = { bbox: [-122.5, 37.5, -122, 38] };
    expect(buildArgv(gdal, { src: 'a', bands: [1], aoi: box })).to.deep.include({
      args: ['translate', '-b', '1', '-te', '-122.5', '37.5', '-122', '38', 'a', 'out.tif'],
    });
  });

  it('joins a bounding box with commas inside a word, and gives its CRS as {crs}', () => {
    const joined = service([input('aoi', '--bbox={value} --crs={crs}')]);
    expect(buildArgv(joined, { src: 'a', bands: [1], aoi: { bbox: [1, 2, 3, 4] } })).to.deep.include({
      args: ['--bbox=1,2,3,4', '--crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84'],
    });
    const crs = 'http://www.opengis.net/def/crs/EPSG/0/4326';
    expect(buildArgv(joined, { src: 'a', bands: [1], aoi: { bbox: [1, 2, 3, 4], crs } })).to.deep.include({ args: ['--bbox=1,2,3,4', `--crs=${crs}`] });
  });

  it('places the corners of a bounding box by name', () => {
    const projwin = service([input('aoi', '-projwin {minx} {maxy} {maxx} {miny}')]);
    expect(buildArgv(projwin, { src: 'a', bands: [1], aoi: { bbox: [-122.5, 37.5, -122, 38] } })).to.deep.include({
      args: ['-projwin', '-122.5', '38', '-122', '37.5'],
    });
  });

  it('writes a JSON object input to a file in the work directory and passes its name', () => {
    expect(buildArgv(service([input('options', '--options {value}')]), { src: 'a', bands: [1], options: { a: [1, 'x'] } })).to.deep.equal({
      ok: true,
      args: ['--options', 'input-options.json'],
      files: [{ name: 'input-options.json', content: '{"a":[1,"x"]}\n' }],
    });
  });

  it('gives the input read from stdin as JSON text for an object and as it is for a string', () => {
    expect(buildArgv(service([], { stdinInput: 'options' }), { src: 'a', bands: [1], options: { a: 1 } })).to.deep.equal({
      ok: true,
      args: [],
      stdin: '{"a":1}\n',
    });
    expect(buildArgv(service([], { stdinInput: 'src' }), { src: 'line 1\nline 2', bands: [1] })).to.deep.include({ stdin: 'line 1\nline 2' });
  });

  it('refuses a value of the wrong shape, naming the input', () => {
    const refused = (values: Record<string, unknown>) => buildArgv(gdal, { src: 'a', bands: [1], ...values });
    expect(refused({ aoi: { bbox: [1, 2, 3] } })).to.deep.equal({
      ok: false,
      message: `input 'aoi' must be a bounding box {"bbox": [minx, miny, maxx, maxy]}`,
    });
    expect(refused({ bands: [1, 2, 3, 4] })).to.deep.equal({ ok: false, message: "input 'bands' must have at most 3 values" });
    expect(refused({ bands: [1, 'x'] })).to.deep.equal({ ok: false, message: "input 'bands' must be a list of values each an integer" });
    expect(refused({ options: [1] })).to.deep.equal({ ok: false, message: "input 'options' must be a JSON object" });
  });

  it("refuses a string value that starts with '-' only where a word starts with it", () => {
    const refusal = { ok: false, message: "input 'src' must not start with '-' (the program would read it as an option)" };
    expect(buildArgv(gdal, { src: '--help', bands: [1] })).to.deep.equal(refusal);
    expect(buildArgv(service([input('src', '--src={value}')]), { src: '--help', bands: [1] })).to.deep.include({ args: ['--src=--help'] });
    expect(buildArgv(service([word('--'), input('src', '{value}')]), { src: '--help', bands: [1] })).to.deep.include({ args: ['--', '--help'] });
  });
});

describe('buildArgv with argformat alone', () => {
  const plain = (argFormat: ServiceDefinition['argFormat']) => ({ argFormat, customArgs: [], inputs: { projwin: inputs['aoi']!, b: inputs['bands']! } });
  const values = { projwin: { bbox: [-122.5, 37.5, -122, 38] }, b: [1, 2] };

  it('repeats the option of an array input per value and spreads a bounding box as -{key} {value} asks', () => {
    expect(buildArgv(plain('-{key} {value}'), values)).to.deep.include({ args: ['-projwin', '-122.5', '37.5', '-122', '38', '-b', '1', '-b', '2'] });
    expect(buildArgv(plain('--{key}={value}'), values)).to.deep.include({ args: ['--projwin=-122.5,37.5,-122,38', '--b=1', '--b=2'] });
    expect(buildArgv(plain('positional'), values)).to.deep.include({ args: ['-122.5', '37.5', '-122', '38', '1', '2'] });
    expect(buildArgv(plain('stdin-json'), values)).to.deep.include({ stdin: `${JSON.stringify(values)}\n` });
  });
});
