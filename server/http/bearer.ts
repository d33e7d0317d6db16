/** Bearer tokens (RFC 6750): reading one from `Authorization` and comparing it in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
function bearerToken(authorization: string): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
}

/**
 * A check of `Authorization` headers against `token`. Both sides are hashed first, so the comparison takes the
 * same time whatever the given token's length or how much of it is right.
 */
export function bearerCheck(token: string): (authorization: string) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const given = bearerToken(authorization);
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}
