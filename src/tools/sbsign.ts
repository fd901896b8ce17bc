// openssl and sbsigntool for Secure Boot with a kernel Debian did not sign: the machine-owner key
// (MOK) and the kernel's Authenticode signature. Pure argv builders.

/** A new self-signed RSA key and certificate for signing kernels (PEM), valid for 100 years: it is enrolled once per machine. */
export function mokKeyArgv(key: string, cert: string, subject: string): string[] {
  return ['openssl', 'req', '-new', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '36500', '-subj', subject, '-addext', 'keyUsage=digitalSignature', '-addext', 'extendedKeyUsage=codeSigning', '-keyout', key, '-out', cert];
}

/** The certificate as DER: the form MokManager enrols from a file. */
export function mokDerArgv(cert: string, der: string): string[] {
  return ['openssl', 'x509', '-in', cert, '-outform', 'DER', '-out', der];
}

/** The certificate's SHA-256 fingerprint, as the manifest and MokManager show it. */
export function mokFingerprintArgv(cert: string): string[] {
  return ['openssl', 'x509', '-in', cert, '-noout', '-fingerprint', '-sha256'];
}

/** Sign a PE image (the kernel's EFI stub) with the key and certificate. */
export function sbsignArgv(key: string, cert: string, input: string, output: string): string[] {
  return ['sbsign', '--key', key, '--cert', cert, '--output', output, input];
}
