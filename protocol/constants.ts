/** Namespace of the load element an agent puts in its presence. */
export const AGENT_NS = 'urn:outpost:agent:1';

/** Bodies stay well under Prosody's 256 KiB client stanza limit; larger data travels over HTTP. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Local part of the orchestrator component's JID: `orchestrator.DOMAIN` (XEP-0114). */
export const ORCHESTRATOR_SUBDOMAIN = 'orchestrator';
