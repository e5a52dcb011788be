import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { trackDirectory } from '@middy-downstream/lambda-sim'

export interface SelfSignedCertificate {
  /** The temp dir holding both files (removed when the test process exits). */
  dir: string
  keyPath: string
  certPath: string
  /** PEM text of the key and the certificate. */
  key: string
  cert: string
}

/**
 * A P-256 key and a self-signed certificate made with the openssl binary, for local TLS servers.
 *
 * @example
 * const { key, cert } = makeSelfSignedCertificate()
 * https.createServer({ key, cert })
 */
export const makeSelfSignedCertificate = (altNames = 'DNS:localhost,IP:127.0.0.1'): SelfSignedCertificate => {
  const dir = trackDirectory(mkdtempSync(path.join(os.tmpdir(), 'mdd-tls-')))
  const keyPath = path.join(dir, 'key.pem')
  const certPath = path.join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${altNames}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  return { dir, keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') }
}
