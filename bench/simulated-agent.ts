import { createHash } from 'node:crypto';
import net from 'node:net';
import { Parser, escapeXML, escapeXMLText, type Element } from '@xmpp/xml';
import { FastScramSha1 } from '../agent/xmpp/fast-scram-sha1.js';
import { AGENT_NS, encodeMessage, loadToAttrs, type AgentMessage, type ProcessSpec } from '../protocol/index.js';
import { PING_NS } from '../xmpp/xmpp-names.js';

const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const BIND_NS = 'urn:ietf:params:xml:ns:xmpp-bind';
const SLOTS = 4;

export interface SimulatedAgentOptions {
  host: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  processes: ProcessSpec[];
  /** How often the agent pings the orchestrator and, when answered, sends a fresh presence (docs/protocol.md §6.1). */
  pingIntervalMs: number;
}

/** What the fleet's agents saw, summed by the fleet process. */
export interface AgentCounters {
  catalogRequests: number;
  executes: number;
  acks: number;
  pingsAnswered: number;
  orchestratorPingsAnswered: number;
  presences: number;
  /** Sessions the server closed after login. */
  disconnects: number;
}

/**
 * One agent of a simulated fleet: its own TCP connection, SASL SCRAM-SHA-1 login and resource,
 * speaking protocol v1 as docs/protocol.md describes it (announce, pings both ways, periodic
 * presence, execute answered with `accepted` then `completed`). Hand-written on a bare socket
 * because ten thousand @xmpp/client instances cost far more memory and CPU than the agents they
 * stand for; jobs are trivial and answered at once.
 */
export class SimulatedAgent {
  readonly #options: SimulatedAgentOptions;
  readonly #counters: AgentCounters;
  readonly #orchestrator: string;
  readonly #catalogHash: string;
  #socket: net.Socket | undefined;
  #parser = new Parser();
  #scram = new FastScramSha1();
  #timer: NodeJS.Timeout | undefined;
  #nextId = 0;
  #online: (() => void) | undefined;
  #failed: ((error: Error) => void) | undefined;

  constructor(options: SimulatedAgentOptions, counters: AgentCounters) {
    this.#options = options;
    this.#counters = counters;
    this.#orchestrator = `orchestrator.${options.domain}`;
    this.#catalogHash = createHash('sha256').update(JSON.stringify(options.processes)).digest('hex');
  }

  /** Resolves once the agent has logged in, bound its resource and announced itself. */
  start(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${this.#options.username}: not online within ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.stop();
        reject(error);
      };
      this.#failed = fail;
      this.#online = () => {
        clearTimeout(timer);
        resolve();
      };
      const socket = net.connect({ host: this.#options.host, port: this.#options.port, noDelay: true });
      this.#socket = socket;
      socket.setEncoding('utf8');
      socket.on('connect', () => this.#openStream());
      socket.on('data', (chunk: string) => this.#parser.write(chunk));
      socket.on('error', (error) => this.#failed?.(new Error(`${this.#options.username}: ${error.message}`)));
      socket.on('close', () => this.#failed?.(new Error(`${this.#options.username}: the server closed the connection`)));
    });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#failed = undefined;
    this.#socket?.destroy();
  }

  /** A new stream (at the start and after SASL success) needs a fresh parser (RFC 6120 §4.3.3). */
  #openStream(): void {
    this.#parser = new Parser();
    this.#parser.on('element', (element: Element) => this.#onElement(element));
    this.#parser.on('error', (error: Error) => this.#failed?.(error));
    this.#write(`<?xml version='1.0'?><stream:stream to='${escapeXML(this.#options.domain)}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
  }

  #write(text: string): void {
    this.#socket?.write(text);
  }

  #sasl(name: string, payload: string, attrs = ''): void {
    this.#write(`<${name} xmlns='${SASL_NS}'${attrs}>${Buffer.from(payload).toString('base64')}</${name}>`);
  }

  #onElement(element: Element): void {
    const { name } = element;
    if (name === 'stream:features') return this.#onFeatures(element);
    if (name === 'challenge') {
      this.#scram.challenge(Buffer.from(element.getText(), 'base64').toString());
      return this.#sasl('response', this.#scram.response(this.#options));
    }
    if (name === 'success') return this.#openStream();
    if (name === 'failure') return this.#failed?.(new Error(`${this.#options.username}: SASL failure ${element.children.map((c) => (c as Element).name).join(' ')}`));
    if (name === 'iq') return this.#onIq(element);
    if (name === 'message') return this.#onMessage(element);
  }

  #onFeatures(features: Element): void {
    if (features.getChild('mechanisms', SASL_NS)) {
      return this.#sasl('auth', this.#scram.response(this.#options), ` mechanism='${FastScramSha1.mechanismName}'`);
    }
    if (features.getChild('bind', BIND_NS)) this.#write(`<iq type='set' id='bind'><bind xmlns='${BIND_NS}'><resource>agent</resource></bind></iq>`);
  }

  #onIq(iq: Element): void {
    const { type, id = '', from = '' } = iq.attrs as Record<string, string>;
    if (id === 'bind' && type === 'result') return this.#announced();
    if (type === 'get' && iq.getChild('ping', PING_NS)) {
      if (from === this.#orchestrator) this.#counters.orchestratorPingsAnswered++;
      return this.#write(`<iq type='result' id='${escapeXML(id)}' to='${escapeXML(from)}'/>`);
    }
    // The answer to our own ping: the orchestrator is there, so the load it holds is refreshed.
    if (type === 'result' && id.startsWith('ping-')) {
      this.#counters.pingsAnswered++;
      this.#presence();
    }
  }

  #announced(): void {
    this.#announce();
    // Spread the agents' own pings over the interval, as independently started agents would be.
    const { pingIntervalMs } = this.#options;
    setTimeout(() => {
      this.#timer = setInterval(() => this.#write(`<iq type='get' id='ping-${this.#nextId++}' to='${this.#orchestrator}'><ping xmlns='${PING_NS}'/></iq>`), pingIntervalMs);
    }, Math.random() * pingIntervalMs).unref();
    this.#online?.();
    this.#failed = () => {
      this.#counters.disconnects++;
      this.stop();
    };
  }

  /** docs/protocol.md §6.3: presence, the catalog, then the runs in flight (none: jobs end at once). */
  #announce(): void {
    // One write system call for the three stanzas: a fleet process writes for thousands of agents.
    this.#socket?.cork();
    this.#presence();
    this.#send({ v: 1, type: 'catalog', hash: this.#catalogHash, part: 1, parts: 1, processes: this.#options.processes, invalid: [] });
    this.#send({ v: 1, type: 'jobs', jobs: [] });
    this.#socket?.uncork();
  }

  #presence(): void {
    this.#counters.presences++;
    const load = { catalog: this.#catalogHash, slots: SLOTS, running: 0, load1: 0, cores: 2, memFree: 1e9, draining: false };
    const attrs = Object.entries({ xmlns: AGENT_NS, ...loadToAttrs(load) })
      .map(([key, value]) => `${key}='${escapeXML(value)}'`)
      .join(' ');
    this.#write(`<presence to='${this.#orchestrator}'><agent ${attrs}/></presence>`);
  }

  #send(message: AgentMessage): void {
    this.#write(`<message to='${this.#orchestrator}'><body>${escapeXMLText(encodeMessage(message))}</body></message>`);
  }

  #onMessage(stanza: Element): void {
    if (stanza.attrs['type'] === 'error' || stanza.attrs['from'] !== this.#orchestrator) return;
    const text = stanza.getChildText('body');
    if (text === null) return;
    const message = JSON.parse(text) as { type: string; job?: string; seq?: number };
    if (message.type === 'catalog-request') {
      this.#counters.catalogRequests++;
      return this.#announce();
    }
    if (message.type === 'ack') return void this.#counters.acks++;
    if (message.type === 'execute' && message.job) {
      this.#counters.executes++;
      this.#send({ v: 1, type: 'accepted', job: message.job, seq: 1 });
      this.#send({ v: 1, type: 'completed', job: message.job, seq: 2, outputs: { text: { value: 'done' } } });
    }
  }
}
