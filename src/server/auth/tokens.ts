// ServiceAccount tokens: JWTs as kube-apiserver's TokenRequest issues them (ES256, `kid` = hash of
// the public key, the `kubernetes.io` private claims binding the token to a ServiceAccount and
// optionally a Pod, Secret or Node, an expiry and an audience). jose signs and verifies them: it
// is small, has no dependencies, and checks the signature, algorithm, issuer, audience and time
// claims in one call instead of our own parsing of untrusted input.
//
// The signing key lives in the data dir (pki/sa.key, 0600) and survives restarts, so tokens already
// mounted in Pods stay valid; servers sharing an etcd share it (adopt). Tokens are never logged.

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

interface KeySet {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicKeyPem: string;
  keyId: string;
}

async function keySet(keyPem: string): Promise<KeySet> {
  const publicKeyPem = crypto.createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString();
  const der = crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  const keyId = crypto.createHash('sha256').update(der).digest('base64url');
  return { privateKey: await importPKCS8(keyPem, ALG), publicKey: await importSPKI(publicKeyPem, ALG, { extractable: true }), publicKeyPem, keyId };
}

export class ServiceAccountTokens {
  private constructor(
    private keys: KeySet,
    private readonly keyFile: string,
    readonly issuer: string,
    /** The audiences the API itself accepts (kube-apiserver's --api-audiences: the issuer). */
    readonly apiAudiences: string[],
  ) {}

  get publicKeyPem(): string {
    return this.keys.publicKeyPem;
  }

  get keyId(): string {
    return this.keys.keyId;
  }

  /** The signing key (PKCS#8 PEM), as servers of one cluster share it. */
  privateKeyPem(): string {
    return fs.readFileSync(this.keyFile, 'utf8');
  }

  /** Loads `<pkiDir>/sa.key` (creating it, 0600, on first start). */
  static async load(pkiDir: string, issuer: string, apiAudiences: string[] = [issuer]): Promise<ServiceAccountTokens> {
    fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(pkiDir, 'sa.key');
    let keyPem: string;
    if (fs.existsSync(keyFile)) keyPem = fs.readFileSync(keyFile, 'utf8');
    else {
      const pair = await generateKeyPair(ALG, { extractable: true });
      keyPem = await exportPKCS8(pair.privateKey);
      writeSecret(keyFile, keyPem);
    }
    const t = new ServiceAccountTokens(await keySet(keyPem), keyFile, issuer, apiAudiences);
    t.writePublicKey();
    return t;
  }

  /**
   * Replaces the signing key with the cluster's (a server joining servers that share an etcd): written
   * to the data dir first, so a restart keeps it. Tokens this server signed before are no longer valid.
   */
  async adopt(keyPem: string): Promise<void> {
    const keys = await keySet(keyPem);
    writeSecret(this.keyFile, keyPem);
    this.keys = keys;
    this.writePublicKey();
  }

  private writePublicKey(): void {
    const pubFile = path.join(path.dirname(this.keyFile), 'sa.pub');
    if (!fs.existsSync(pubFile) || fs.readFileSync(pubFile, 'utf8') !== this.keys.publicKeyPem) fs.writeFileSync(pubFile, this.keys.publicKeyPem, { mode: 0o644 });
  }

  /** The public key as a JWK (for /openid/v1/jwks). */
  async publicJWK(): Promise<Record<string, unknown>> {
    return { ...(await exportJWK(this.keys.publicKey)), kid: this.keyId, use: 'sig', alg: ALG };
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
      .sign(this.keys.privateKey);
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * Checks signature, algorithm, issuer, audience (one of `audiences`, default the API's) and time;
   * throws TokenError with why (never the token).
   */
  async verify(token: string, audiences: string[] = this.apiAudiences): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.publicKey, { algorithms: [ALG], issuer: this.issuer, audience: audiences, clockTolerance: LEEWAY_SECONDS, requiredClaims: ['exp', 'sub'] }));
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
