// Verifies an Authify token with Node's `jose` from the live JWKS, as the authify-verify README shows.
// Input in the environment: JWKS_URL, TOKEN, TAMPERED, ISSUER. Prints the verified `sub`; exits
// non-zero if the token fails or the tampered one passes.
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';

const jwks = createRemoteJWKSet(new URL(process.env.JWKS_URL));
const verify = (token) => jwtVerify(token, jwks, {
  issuer: process.env.ISSUER,
  algorithms: ['ES256', 'ES384', 'ES512'], // jose also pins each key to its JWK's alg
  requiredClaims: ['exp', 'sub'],
});

const { payload } = await verify(process.env.TOKEN);
try {
  await verify(process.env.TAMPERED);
  console.error('the tampered token verified');
  process.exit(1);
} catch (error) {
  if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
}
console.log(payload.sub);
