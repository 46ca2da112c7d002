import { expect } from 'chai';
import fc from 'fast-check';
import { FormatRegistry, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  agentMessageSchemas,
  attrsToLoad,
  decodeAgentMessage,
  decodeOrchestratorMessage,
  orchestratorMessageSchemas,
  type Decoded,
} from '../../protocol/index.js';
import { expectOneLine, fuzzEdge, watchUnhandledRejections, scaledTimeout } from '../helpers/fuzz.js';
import { AGENT_MESSAGES, ORCHESTRATOR_MESSAGES, messageBodies, presenceAttributes } from '../helpers/wire-samples.js';

// An independent check of what the decoder accepted: TypeBox's own validator, not ajv.
FormatRegistry.Set('date-time', (text) => !Number.isNaN(Date.parse(text)));

/** Each direction of the wire: its decoder, its schemas and a valid message of every type. */
const DIRECTIONS = [
  { edge: 'agent-messages', decode: decodeAgentMessage as (body: string) => Decoded<{ type: string }>, schemas: agentMessageSchemas, valid: AGENT_MESSAGES },
  { edge: 'orchestrator-messages', decode: decodeOrchestratorMessage as (body: string) => Decoded<{ type: string }>, schemas: orchestratorMessageSchemas, valid: ORCHESTRATOR_MESSAGES },
];

const schemaOf = (schemas: readonly TObject[], type: string) => schemas.find((schema) => (schema.properties['type'] as unknown as { const: string }).const === type);

describe('fuzz: the wire codec', function () {
  this.timeout(scaledTimeout(20_000));
  const rejections = watchUnhandledRejections();
  afterEach(() => rejections.check());

  for (const { edge, decode, schemas, valid } of DIRECTIONS) {
    it(`${edge}: decodes every valid sample`, () => {
      for (const message of valid) expect(decode(JSON.stringify(message)), message.type).to.deep.equal({ ok: true, message });
    });

    it(`${edge}: answers any body with a message that passes its schema or a one-line refusal`, async () => {
      await fuzzEdge(
        edge,
        { runs: 4000, timeMs: 3000 },
        fc.asyncProperty(messageBodies(valid), async (body) => {
          const decoded = decode(body);
          if (!decoded.ok) return expectOneLine(decoded.error, 'the refusal');
          const schema = schemaOf(schemas, decoded.message.type);
          if (!schema || !Value.Check(schema, decoded.message)) throw new Error(`accepted a message its schema refuses: ${body.slice(0, 300)}`);
        }),
      );
    });
  }

  it('presence: reads any attributes as a valid load or a one-line refusal', async () => {
    await fuzzEdge(
      'presence',
      { runs: 4000, timeMs: 2000 },
      fc.asyncProperty(presenceAttributes(), async (attrs) => {
        const load = attrsToLoad(attrs);
        if (typeof load === 'string') return expectOneLine(load, 'the refusal');
        const numbers = [load.slots, load.running, load.load1, load.cores, load.memFree];
        if (!numbers.every((n) => Number.isFinite(n) && n >= 0) || !Number.isInteger(load.slots) || load.slots < 1 || !load.catalog) {
          throw new Error(`accepted an invalid load: ${JSON.stringify(load)}`);
        }
      }),
    );
  });
});
