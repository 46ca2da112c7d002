import { client, type Client } from '@xmpp/client';
import { preferFastScram } from '../../agent/xmpp/fast-scram-sha1.js';
import type { Cluster } from './cluster.js';

/** A plain XMPP client on a new account of the cluster's Prosody: an agent account in an attacker's hands. */
export async function rawAccount(cluster: Cluster, name: string): Promise<Client> {
  const { password } = await cluster.server.addAccount(name);
  const { prosody } = cluster.server;
  const raw = client({ service: prosody.clientService, domain: prosody.domain, username: name, password, resource: 'x' });
  preferFastScram((raw as unknown as { saslFactory: unknown }).saslFactory);
  await raw.start();
  return raw;
}
