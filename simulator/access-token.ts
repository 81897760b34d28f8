/**
 * Access tokens for the simulated Graph: JWTs shaped like the app-only v1.0 tokens Entra issues
 * for Microsoft Graph (`aud`, `iss` = sts.windows.net/{tid}/, `tid`, `appid`, `roles`,
 * `idtyp: app`), signed HS256 with a key generated at start and held only in memory. Tokens are
 * therefore valid only against the simulator process that issued them, and never stored.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { GraphError, graphErrors } from './errors.js';

export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

/** Who a verified token speaks for. */
export interface Principal {
  readonly appId: string;
  readonly tenantId: string;
  readonly roles: readonly string[];
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

export interface AccessTokenService {
  issue(principal: Principal): Promise<IssuedToken>;
  /** The principal of a valid, unexpired token; otherwise throws Graph's 401. */
  verify(authorization: string | undefined): Promise<Principal>;
  /**
   * Invalidates every token issued so far (a fault plan's `revokeTokens`), as if consent or
   * the signing key changed: clients must acquire a new token.
   */
  revokeAll(): void;
}

export function createAccessTokenService(options: {
  readonly tenantId: string;
  readonly lifetimeSeconds: number;
  readonly clock?: Clock;
}): AccessTokenService {
  const key = new Uint8Array(randomBytes(32));
  const issuer = `https://sts.windows.net/${options.tenantId}/`;
  const clock = options.clock ?? systemClock();
  // Tokens carry the generation they were issued in (a simulator-private claim); revoking
  // starts a new generation and verification refuses older ones.
  let generation = 0;
  // Verified tokens by their text. Signature checks are the simulator's hottest work (a WebCrypto
  // HMAC per request), and a token's signature cannot change: a hit still checks the clock and
  // the generation, so expiry and `revokeAll` take effect exactly as without the cache.
  const verified = new Map<string, VerifiedToken>();

  return {
    revokeAll() {
      generation += 1;
    },
    async issue(principal) {
      const now = Math.floor(clock.now() / 1000);
      const servicePrincipalId = stableGuid(`${principal.tenantId}/${principal.appId}`);
      const accessToken = await new SignJWT({
        tid: principal.tenantId,
        appid: principal.appId,
        appidacr: '1',
        idtyp: 'app',
        oid: servicePrincipalId,
        sub: servicePrincipalId,
        roles: [...principal.roles],
        uti: randomUUID(),
        ver: '1.0',
        xms_sim_gen: generation,
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(GRAPH_AUDIENCE)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + options.lifetimeSeconds)
        .sign(key);
      return { accessToken, expiresIn: options.lifetimeSeconds };
    },

    async verify(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      const token = match?.[1];
      if (token === undefined) throw graphErrors.invalidToken('Access token is empty.');
      const known = verified.get(token);
      if (known !== undefined) return checkVerified(known, clock.now(), generation);
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer,
          audience: GRAPH_AUDIENCE,
          currentDate: new Date(clock.now()),
        });
        if (payload['xms_sim_gen'] !== generation) {
          throw graphErrors.invalidToken('Lifetime validation failed, the token is expired.');
        }
        const roles = Array.isArray(payload['roles'])
          ? payload['roles'].filter((r): r is string => typeof r === 'string')
          : [];
        const principal = {
          appId: typeof payload['appid'] === 'string' ? payload['appid'] : '',
          tenantId: typeof payload['tid'] === 'string' ? payload['tid'] : '',
          roles,
        };
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
        verified.set(token, {
          principal,
          notBefore: (payload.nbf ?? 0) * 1000,
          expires: (payload.exp ?? 0) * 1000,
          generation,
        });
        return principal;
      } catch (error) {
        if (error instanceof GraphError) throw error;
        if (error instanceof joseErrors.JWTExpired) {
          throw graphErrors.invalidToken('Lifetime validation failed, the token is expired.');
        }
        if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
          throw graphErrors.invalidToken('Access token validation failure. Invalid audience.');
        }
        throw graphErrors.invalidToken('Access token validation failure.');
      }
    },
  };
}

/** Tokens remembered as verified; past this the memory starts again (a bound, not a policy). */
const VERIFIED_CACHE_SIZE = 1_000;

interface VerifiedToken {
  readonly principal: Principal;
  /** Epoch ms: the token's `nbf` and `exp`. */
  readonly notBefore: number;
  readonly expires: number;
  readonly generation: number;
}

/** The answers jwtVerify would give a token whose signature and claims were checked before. */
function checkVerified(token: VerifiedToken, now: number, generation: number): Principal {
  if (token.generation !== generation || now >= token.expires) {
    throw graphErrors.invalidToken('Lifetime validation failed, the token is expired.');
  }
  if (now < token.notBefore) throw graphErrors.invalidToken('Access token validation failure.');
  return token.principal;
}

/** A GUID derived from `seed`, so an app's service principal id is the same on every run. */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
