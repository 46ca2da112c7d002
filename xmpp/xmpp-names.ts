/** XEP-0199 ping, used in both directions for liveness. */
export const PING_NS = 'urn:xmpp:ping';

/** RFC 6120 stanza error conditions. */
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The account part of a JID, `name@domain` of `name@domain/resource`; a bare JID stays as it is. */
export const bareJid = (jid: string): string => jid.split('/')[0] ?? jid;

/** Whether a request (e.g. a ping iq) was answered in time; any error or timeout means no. */
export async function answered(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch {
    return false;
  }
}
