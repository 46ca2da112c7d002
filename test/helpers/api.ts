import type { UserStoreApi } from '../../src/store/user-store.js';

/** The user whose token tests send by default, and who owns the jobs they seed. */
export const TEST_USER = 'alice';
export const TEST_ADMIN = 'admin';

/** `fetch` that sends `Authorization: Bearer <token>`, unless the request sets its own header. */
export function withToken(token: string): typeof fetch {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

export interface TestCallers {
  userToken: string;
  adminToken: string;
  /** `fetch` as TEST_USER. */
  api: typeof fetch;
  /** `fetch` as TEST_ADMIN. */
  adminApi: typeof fetch;
}

/** Creates TEST_USER and TEST_ADMIN with a token each. */
export async function testCallers(users: UserStoreApi): Promise<TestCallers> {
  await users.create(TEST_USER, 'user');
  await users.create(TEST_ADMIN, 'admin');
  const userToken = (await users.issueToken(TEST_USER, 'tests')).token;
  const adminToken = (await users.issueToken(TEST_ADMIN, 'tests')).token;
  return { userToken, adminToken, api: withToken(userToken), adminApi: withToken(adminToken) };
}

/** POSTs an execute request (OGC 18-062r2 §7.11) as JSON; `headers` adds e.g. `Prefer: respond-async`. */
export function postExecute(call: typeof fetch, base: string, processId: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(`${base}/processes/${processId}/execution`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
