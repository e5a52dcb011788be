import { existsSync, readdirSync } from 'node:fs'

const searchPath = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']

/** Finds a server binary from Debian's packages, or throws naming the apt package to install. */
export const findBinary = (name: string, aptPackage: string, extraDirs: string[] = []): string => {
  for (const dir of [...extraDirs, ...searchPath]) {
    const candidate = `${dir}/${name}`
    if (existsSync(candidate)) return candidate
  }
  throw new Error(`${name} not found: install it with \`apt-get install -y ${aptPackage}\``)
}

/** PostgreSQL's server binaries live in a versioned directory, newest first. */
export const postgresBinDirs = (): string[] => {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return []
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => `${root}/${version}/bin`)
}
