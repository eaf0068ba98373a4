// ServiceAccount tokens: JWTs as kube-apiserver's TokenRequest issues them (ES256, `kid` = hash of
// the public key, the `kubernetes.io` private claims binding the token to a ServiceAccount and
// optionally a Pod, Secret or Node, an expiry and an audience). jose signs and verifies them: it
// is small, has no dependencies, and checks the signature, algorithm, issuer, audience and time
// claims in one call instead of our own parsing of untrusted input.
//
// The signing key lives in the data dir (pki/sa.key, 0600) and survives restarts, so tokens already
// mounted in Pods stay valid. Tokens are never logged.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors as joseErrors, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

const ALG = 'ES256';
/** Clock skew tolerated on exp/nbf/iat (go-jose's DefaultLeeway). */
export const LEEWAY_SECONDS = 60;

export interface BoundObject {
  name: string;
  uid: string;
}

/** The `kubernetes.io` claim. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: BoundObject;
  pod?: BoundObject;
  secret?: BoundObject;
  node?: BoundObject;
  warnafter?: number;
}

export interface TokenClaims extends JWTPayload {
  'kubernetes.io': KubernetesClaims;
}

export interface IssueOptions {
  claims: KubernetesClaims;
  audiences: string[];
  expirationSeconds: number;
  /** seconds since the epoch; default now */
  now?: number;
}

export interface VerifiedToken {
  claims: TokenClaims;
  /** ms since the epoch */
  expiresAt: number;
}

export class TokenError extends Error {}

function writeSecret(file: string, data: string): void {
  fs.writeFileSync(file, data, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export class ServiceAccountTokens {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly publicKeyPem: string,
    readonly keyId: string,
    readonly issuer: string,
    /** The audiences the API itself accepts (kube-apiserver's --api-audiences: the issuer). */
    readonly apiAudiences: string[],
  ) {}

  /** Loads `<pkiDir>/sa.key` (creating it, 0600, on first start). */
  static async load(pkiDir: string, issuer: string, apiAudiences: string[] = [issuer]): Promise<ServiceAccountTokens> {
    fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(pkiDir, 'sa.key');
    const pubFile = path.join(pkiDir, 'sa.pub');
    let keyPem: string;
    let pubPem: string;
    if (fs.existsSync(keyFile)) {
      keyPem = fs.readFileSync(keyFile, 'utf8');
      pubPem = crypto.createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString();
    } else {
      const pair = await generateKeyPair(ALG, { extractable: true });
      keyPem = await exportPKCS8(pair.privateKey);
      pubPem = await exportSPKI(pair.publicKey);
      writeSecret(keyFile, keyPem);
    }
    if (!fs.existsSync(pubFile) || fs.readFileSync(pubFile, 'utf8') !== pubPem) fs.writeFileSync(pubFile, pubPem, { mode: 0o644 });
    const der = crypto.createPublicKey(pubPem).export({ type: 'spki', format: 'der' });
    const kid = crypto.createHash('sha256').update(der).digest('base64url');
    return new ServiceAccountTokens(await importPKCS8(keyPem, ALG), await importSPKI(pubPem, ALG, { extractable: true }), pubPem, kid, issuer, apiAudiences);
  }

  /** The public key as a JWK (for /openid/v1/jwks). */
  async publicJWK(): Promise<Record<string, unknown>> {
    return { ...(await exportJWK(this.publicKey)), kid: this.keyId, use: 'sig', alg: ALG };
  }

  /** A signed token; its `sub` is the ServiceAccount's username. */
  async issue(opts: IssueOptions): Promise<{ token: string; expiresAt: number }> {
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    const exp = now + opts.expirationSeconds;
    const c = opts.claims;
    const token = await new SignJWT({ 'kubernetes.io': c } as unknown as JWTPayload)
      .setProtectedHeader({ alg: ALG, kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${c.namespace}:${c.serviceaccount.name}`)
      .setAudience(opts.audiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(this.privateKey);
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * Checks signature, algorithm, issuer, audience (one of `audiences`, default the API's) and time;
   * throws TokenError with why (never the token).
   */
  async verify(token: string, audiences: string[] = this.apiAudiences): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, { algorithms: [ALG], issuer: this.issuer, audience: audiences, clockTolerance: LEEWAY_SECONDS, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenError('service account token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') throw new TokenError('token audiences is invalid');
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenError('invalid signature');
      throw new TokenError(err instanceof Error ? err.message : 'invalid token');
    }
    const k = payload['kubernetes.io'] as KubernetesClaims | undefined;
    if (!k || typeof k.namespace !== 'string' || !k.serviceaccount || typeof k.serviceaccount.name !== 'string' || typeof k.serviceaccount.uid !== 'string') {
      throw new TokenError('token lacks the kubernetes.io claims of a service account');
    }
    if (payload.sub !== `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`) throw new TokenError('token subject does not match its service account');
    return { claims: payload as TokenClaims, expiresAt: (payload.exp as number) * 1000 };
  }
}

/** Whether a string looks like a JWT at all (three base64url parts), before spending a verify on it. */
export function looksLikeJWT(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
