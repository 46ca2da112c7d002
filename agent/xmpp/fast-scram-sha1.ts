import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

interface Credentials {
  username: string;
  password: string;
}

/** RFC 5802 `saslname`: ',' and '=' are escaped in user names. */
const saslName = (name: string) => name.replace(/=/g, '=3D').replace(/,/g, '=2C');
const hmac = (key: Buffer, text: string) => createHmac('sha1', key).update(text).digest();

/** Upper bound on the server's iteration count, so a hostile server cannot stall the agent. */
const MAX_ITERATIONS = 1_000_000;

/** RFC 5802 §3: the keys derived from a password; a server stores `storedKey` and `serverKey`, a client proves itself with `clientKey`. */
export function scramSha1Keys(password: string, salt: Buffer, iterations: number): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const saltedPassword = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 20, 'sha1');
  const clientKey = hmac(saltedPassword, 'Client Key');
  return { clientKey, storedKey: createHash('sha1').update(clientKey).digest(), serverKey: hmac(saltedPassword, 'Server Key') };
}

/**
 * SCRAM-SHA-1 client (RFC 5802) using Node's native PBKDF2. The mechanism bundled with
 * @xmpp/client derives the key in JavaScript, which makes each login take seconds; this one
 * takes milliseconds, with the same protocol and the same security on any link.
 */
export class FastScramSha1 {
  static readonly mechanismName = 'SCRAM-SHA-1';
  readonly name = FastScramSha1.mechanismName;
  readonly clientFirst = true;
  #clientNonce = randomBytes(18).toString('base64');
  #clientFirstBare = '';
  #serverFirst = '';
  #step: 'first' | 'final' | 'done' = 'first';

  response(credentials: Credentials): string {
    if (this.#step === 'first') {
      this.#clientFirstBare = `n=${saslName(credentials.username)},r=${this.#clientNonce}`;
      this.#step = 'final';
      return `n,,${this.#clientFirstBare}`;
    }
    if (this.#step === 'done') return '';
    this.#step = 'done';
    return this.#clientFinal(credentials.password);
  }

  challenge(text: string): this {
    if (this.#step === 'final') this.#serverFirst = text;
    return this;
  }

  #clientFinal(password: string): string {
    const fields = new Map(this.#serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)]));
    const nonce = fields.get('r') ?? '';
    const salt = Buffer.from(fields.get('s') ?? '', 'base64');
    const iterations = Number(fields.get('i'));
    if (!nonce.startsWith(this.#clientNonce) || nonce === this.#clientNonce) throw new Error('SCRAM: server nonce does not extend ours');
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new Error(`SCRAM: unacceptable iteration count ${fields.get('i')}`);
    }
    const { clientKey, storedKey } = scramSha1Keys(password, salt, iterations);
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
    return `${withoutProof},p=${proof.toString('base64')}`;
  }
}

interface MechanismFactory {
  _mechs: { name: string; mech: unknown }[];
}

/**
 * Puts FastScramSha1 first in an @xmpp/client SASL factory, in place of the bundled one.
 * The factory (saslmechanisms) picks the first registered match, so order is priority.
 */
export function preferFastScram(saslFactory: unknown): void {
  const factory = saslFactory as MechanismFactory;
  factory._mechs = factory._mechs.filter((m) => m.name !== FastScramSha1.mechanismName);
  factory._mechs.unshift({ name: FastScramSha1.mechanismName, mech: FastScramSha1 });
}
