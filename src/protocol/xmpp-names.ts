/** XEP-0199 ping, used in both directions for liveness. */
export const PING_NS = 'urn:xmpp:ping';

/** RFC 6120 stanza error conditions. */
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** Whether a request (e.g. a ping iq) was answered in time; any error or timeout means no. */
export async function answered(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch {
    return false;
  }
}
