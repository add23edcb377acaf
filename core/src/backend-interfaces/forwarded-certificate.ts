import { createHash, X509Certificate } from 'node:crypto';

/**
 * A client certificate forwarded by a trusted TLS-terminating proxy in a header: PEM, raw or
 * URL-encoded (nginx `$ssl_client_escaped_cert`, Envoy/HAProxy style), or base64 DER. It counts
 * only when it was issued by Joinery's CA and is within its validity; returns its SHA-256
 * fingerprint (as a direct TLS client certificate would give), or null.
 */
export function forwardedCertificateFingerprint(headerValue: string, caPem: string, now = new Date()): string | null {
  let text = headerValue.trim();
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return null;
    }
  }
  let cert: X509Certificate;
  try {
    cert = text.includes('-----BEGIN') ? new X509Certificate(text) : new X509Certificate(Buffer.from(text, 'base64'));
  } catch {
    return null;
  }
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return null;
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return null;
  return createHash('sha256').update(cert.raw).digest('hex');
}
