import { client, type Client } from '@xmpp/client';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import type { Cluster } from './cluster.js';

export interface RawLogin {
  service: string;
  domain: string;
  name: string;
  password: string;
}

/** A plain XMPP client, logged in, that speaks whatever a test makes it say. */
export async function rawClient({ service, domain, name, password }: RawLogin): Promise<Client> {
  const raw = client({ service, domain, username: name, password, resource: 'raw' });
  preferFastScram((raw as unknown as { saslFactory: unknown }).saslFactory);
  await raw.start();
  return raw;
}

/** A plain XMPP client on a new account provisioned as an agent: an agent account in an attacker's hands. */
export async function rawAccount(cluster: Cluster, name: string): Promise<Client> {
  const { password } = await cluster.addAccount(name);
  const { prosody } = cluster.server;
  return rawClient({ service: prosody.clientService, domain: prosody.domain, name, password });
}
