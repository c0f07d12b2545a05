/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, as JSON.stringify's callers expect), no
 * whitespace, `undefined` members dropped. The same value gives the same bytes on every host, so the
 * bytes can be hashed into an identity.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
