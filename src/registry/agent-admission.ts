/** Which accounts may act as agents besides the provisioned ones (`--agent-allowlist`, `--agent-domains`). */
export interface AdmissionRules {
  agentAllowlist?: string[];
  agentDomains?: string[];
}

/**
 * The pool of an account that may act as an agent, or undefined for any other account
 * (docs/security.md, who may offer what). A provisioned account has the pool it was given;
 * one admitted by the allowlist or a whole domain is alone in a pool named by its bare JID.
 */
export function agentPools(rules: AdmissionRules, provisioned: { poolOf(jid: string): string | undefined }): (bareJid: string) => string | undefined {
  return (jid) => {
    const pool = provisioned.poolOf(jid);
    if (pool !== undefined) return pool;
    if (rules.agentAllowlist?.includes(jid)) return jid;
    if (rules.agentDomains?.some((domain) => jid.endsWith(`@${domain}`))) return jid;
    return undefined;
  };
}
