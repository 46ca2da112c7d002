import { expect } from 'chai';
import { describeInputs } from '../../src/jobs/input-schema.js';
import { compileInputValidator } from '../../src/jobs/input-validator.js';
import type { InputSpec } from '../../protocol/process-spec.js';

const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
const EPSG4326 = 'http://www.opengis.net/def/crs/EPSG/0/4326';

const inputs: Record<string, InputSpec> = {
  bands: { type: 'integer', minOccurs: 1, maxOccurs: 3, minimum: 1, required: true },
  names: { type: 'string', maxOccurs: 5, maxLength: 8, required: false },
  aoi: { type: 'bbox', crs: [CRS84, EPSG4326], required: false },
  options: { type: 'object', required: false },
};

describe('input descriptions of arrays, bounding boxes and JSON objects', () => {
  it('publishes an array input as type array with items and occurrences (OGC 18-062r2 §7.11.2)', () => {
    const { bands, names } = describeInputs(inputs);
    expect(bands).to.deep.equal({
      title: 'bands',
      schema: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 3 },
      minOccurs: 1,
      maxOccurs: 3,
    });
    expect(names).to.deep.include({ schema: { type: 'array', items: { type: 'string', maxLength: 8 }, minItems: 1, maxItems: 5 }, minOccurs: 0, maxOccurs: 5 });
  });

  it("publishes a bounding box as OGC's bbox schema, narrowed to the declared CRSs", () => {
    expect(describeInputs(inputs)['aoi']?.schema).to.deep.equal({
      type: 'object',
      format: 'ogc-bbox',
      required: ['bbox'],
      properties: {
        bbox: { type: 'array', minItems: 4, maxItems: 4, items: { type: 'number' } },
        crs: { type: 'string', format: 'uri', default: CRS84, enum: [CRS84, EPSG4326] },
      },
    });
    expect(describeInputs({ box: { type: 'bbox' } })['box']?.schema).to.deep.include({
      properties: { bbox: { type: 'array', minItems: 4, maxItems: 4, items: { type: 'number' } }, crs: { type: 'string', format: 'uri', default: CRS84 } },
    });
    expect(describeInputs(inputs)['options']?.schema).to.deep.equal({ type: 'object' });
  });
});

describe('validating arrays, bounding boxes and JSON objects', () => {
  const validate = compileInputValidator(inputs);
  const refused = (values: Record<string, unknown>, input: string, message: string) =>
    expect(validate({ bands: [1], ...values })).to.deep.equal({ ok: false, message, input });

  it('passes valid values, a bare value of an array input as a one-value array, qualified values unwrapped', () => {
    const aoi = { bbox: [-122.5, 37.5, -122, 38], crs: EPSG4326 };
    expect(validate({ bands: 2, names: [{ value: 'a' }, 'b'], aoi, options: { value: 1, deep: { a: [] } } })).to.deep.equal({
      ok: true,
      values: { bands: [2], names: ['a', 'b'], aoi, options: { value: 1, deep: { a: [] } } },
    });
    expect(validate({ bands: { value: [1, 2] }, options: { value: { a: 1 }, mediaType: 'application/json' } })).to.deep.equal({
      ok: true,
      values: { bands: [1, 2], options: { a: 1 } },
    });
  });

  it('refuses a value that does not fit, with a 400 text naming the input', () => {
    refused({ bands: [] }, 'bands', "input 'bands' must have at least 1 values");
    refused({ bands: [1, 2, 3, 4] }, 'bands', "input 'bands' must have at most 3 values");
    refused({ bands: [1, 0] }, 'bands', "input 'bands' at /1 must be >= 1");
    refused({ names: ['ok', 'far too long'] }, 'names', "input 'names' at /1 must be at most 8 characters long");
    refused({ aoi: [1, 2, 3, 4] }, 'aoi', "input 'aoi' must be object");
    refused({ aoi: { crs: CRS84 } }, 'aoi', "input 'aoi' must have required property 'bbox'");
    refused({ aoi: { bbox: [1, 2, 3] } }, 'aoi', "input 'aoi' at /bbox must have at least 4 values");
    refused({ aoi: { bbox: [1, 2, 3, 'x'] } }, 'aoi', "input 'aoi' at /bbox/3 must be number");
    refused({ aoi: { bbox: [1, 2, 3, 4], crs: 'http://example.org/crs' } }, 'aoi', `input 'aoi' at /crs must be one of: ${CRS84}, ${EPSG4326}`);
    refused({ options: 'x' }, 'options', "input 'options' must be object");
  });

  it("refuses a string item that starts with '-' where the input does not allow it", () => {
    refused({ names: ['a', '--help'] }, 'names', "input 'names' must not start with '-' (the program would read it as an option)");
  });
});
