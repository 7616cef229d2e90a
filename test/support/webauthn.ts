import { base64url, fromBase64url } from "./encoding";

/**
 * A software authenticator (ES256, attestation "none") that speaks WebAuthn's wire format, so that
 * workerd tests can register and use passkeys without a browser. The e2e test uses Chromium's
 * virtual authenticator instead. Built by hand: CBOR, authenticator data and DER signatures.
 */

function cborHead(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  return [(major << 5) | 25, length >> 8, length & 0xff];
}

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function cbor(value: Cbor): number[] {
  if (typeof value === "number") return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    return [...cborHead(3, bytes.length), ...bytes];
  }
  if (value instanceof Uint8Array) return [...cborHead(2, value.length), ...value];
  return [...cborHead(5, value.size), ...[...value].flatMap(([key, item]) => [...cbor(key), ...cbor(item)])];
}

const utf8 = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
const sha256 = async (bytes: Uint8Array<ArrayBuffer>) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** r||s (WebCrypto's ECDSA output) as the DER SEQUENCE WebAuthn carries. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let trimmed = bytes.slice(start);
    if (trimmed[0]! & 0x80) trimmed = concat(new Uint8Array([0]), trimmed);
    return concat(new Uint8Array([0x02, trimmed.length]), trimmed);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export interface SoftAuthenticatorOptions {
  origin: string;
  rpId: string;
  /** Whether the authenticator reports user verification (UV flag); presence (UP) is always set. */
  userVerified?: boolean;
}

export class SoftAuthenticator {
  readonly credentialId = crypto.getRandomValues(new Uint8Array(16));
  counter = 0;
  private keys?: CryptoKeyPair;
  private readonly options: SoftAuthenticatorOptions;

  constructor(options: SoftAuthenticatorOptions) {
    this.options = { ...options };
  }

  /** From now on the authenticator reports presence only, not verification (UV flag clear). */
  stopVerifyingUser(): void {
    this.options.userVerified = false;
  }

  get id(): string {
    return base64url(this.credentialId);
  }

  private async authData(flags: number, attested?: Uint8Array): Promise<Uint8Array> {
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, this.counter);
    const rpIdHash = await sha256(utf8(this.options.rpId));
    return concat(rpIdHash, new Uint8Array([flags]), counter, attested ?? new Uint8Array());
  }

  private flags(extra = 0): number {
    return 0x01 | (this.options.userVerified === false ? 0 : 0x04) | extra;
  }

  private clientData(type: string, challenge: string): Uint8Array<ArrayBuffer> {
    return utf8(JSON.stringify({ type, challenge, origin: this.options.origin, crossOrigin: false }));
  }

  /** A RegistrationResponseJSON for creation options (their `challenge`). */
  async register(options: { challenge: string }) {
    this.keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", this.keys.publicKey)) as JsonWebKey;
    const cose = new Map<number, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, fromBase64url(jwk.x!)],
      [-3, fromBase64url(jwk.y!)],
    ]);
    const idLength = new Uint8Array([0, this.credentialId.length]);
    const attested = concat(new Uint8Array(16), idLength, this.credentialId, new Uint8Array(cbor(cose)));
    const authData = await this.authData(this.flags(0x40), attested);
    const attestationObject = new Uint8Array(
      cbor(
        new Map<string, Cbor>([
          ["fmt", "none"],
          ["attStmt", new Map()],
          ["authData", authData],
        ]),
      ),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: base64url(this.clientData("webauthn.create", options.challenge)),
        attestationObject: base64url(attestationObject),
        transports: ["internal"],
      },
    };
  }

  /** An AuthenticationResponseJSON for request options; the counter rises by one unless `counter` is given. */
  async assert(options: { challenge: string }, { counter }: { counter?: number } = {}) {
    if (!this.keys) throw new Error("register first");
    this.counter = counter ?? this.counter + 1;
    const authData = await this.authData(this.flags());
    const clientDataJSON = this.clientData("webauthn.get", options.challenge);
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, this.keys.privateKey, signed as Uint8Array<ArrayBuffer>),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: base64url(clientDataJSON),
        authenticatorData: base64url(authData),
        signature: base64url(derSignature(raw)),
        userHandle: undefined,
      },
    };
  }
}
