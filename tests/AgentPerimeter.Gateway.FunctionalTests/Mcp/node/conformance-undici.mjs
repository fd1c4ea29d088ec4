// undici's request() with the agent's session token (MCP_BEARER_TOKEN) added when the suite sends none.
import { request as undiciRequest } from 'undici';
export function request(url, options = {}) {
  const token = process.env.MCP_BEARER_TOKEN;
  if (!token)
    return undiciRequest(url, options);
  const headers = { ...(options.headers ?? {}) };
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
    headers.authorization = `Bearer ${token}`;
  return undiciRequest(url, { ...options, headers });
}
