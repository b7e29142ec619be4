// Writes DPoP proofs (RFC 9449) for the DPoP benchmark: one ES256 key, COUNT proofs of
// `POST HTU`, each with its own jti and the current iat, one per line, into FILE.0 … FILE.(T-1).
// Uses only Node's WebCrypto. Usage: node bench/dpop_proofs.mjs HTU COUNT FILE THREADS
import { webcrypto as crypto } from "node:crypto";
import { writeFileSync } from "node:fs";

const [htu, count, file, threads] = [process.argv[2], Number(process.argv[3]), process.argv[4], Number(process.argv[5] ?? 1)];
const b64 = (buf) => Buffer.from(buf).toString("base64url");
const { publicKey, privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
const header = b64(JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: { kty, crv, x, y } }));
const iat = Math.floor(Date.now() / 1000);
for (let t = 0; t < threads; t++) {
  const lines = [];
  for (let i = 0; i < count; i++) {
    const body = b64(JSON.stringify({ jti: crypto.randomUUID(), htm: "POST", htu, iat }));
    const input = `${header}.${body}`;
    const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, Buffer.from(input));
    lines.push(`${input}.${b64(sig)}`);
  }
  writeFileSync(`${file}.${t}`, lines.join("\n") + "\n");
}
