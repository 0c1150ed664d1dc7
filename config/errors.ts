/**
 * The one error type of ffnet's configuration layer.
 *
 * Every problem found while reading or validating ffnet.ini (or a config object) is thrown as a
 * `FfnetConfigError` whose message names the file, then the section and key when there is one:
 *
 *     ffnet.ini: [port0] addr: "10.77.0.300" is not an IPv4 address
 *     ffnet.ini: unknown key "foo" in [dpdk] (known keys: lcore_mask, ...)
 *     cannot read config file /etc/ffnet.ini: ENOENT (no such file)
 *
 * The same facts are available as fields, so tools can point at the offending line themselves.
 */

/** A configuration that could not be read or is not valid. `code` is always 'ERR_FFNET_CONFIG'. */
export class FfnetConfigError extends Error {
  /** Stable error code for `err.code` checks. */
  readonly code = 'ERR_FFNET_CONFIG' as const;
  /** The file as named by the caller, or a label such as '<config object>'. */
  readonly file: string;
  /** Section name without brackets ('dpdk', 'port0', 'sysctl'), when the problem is inside one. */
  readonly section?: string;
  /** Key within the section, when the problem is about one key. */
  readonly key?: string;
  /** The problem itself, without the file/section/key prefix. */
  readonly detail: string;

  /**
   * Builds `<file>: [<section>] <key>: <detail>` (parts that are absent are left out). `message`
   * replaces that composed text when a different sentence reads better.
   */
  constructor(file: string, section: string | undefined, key: string | undefined, detail: string, message?: string) {
    super(message ?? composeMessage(file, section, key, detail));
    this.name = 'FfnetConfigError';
    this.file = file;
    if (section !== undefined) this.section = section;
    if (key !== undefined) this.key = key;
    this.detail = detail;
  }

  /** A key the section does not define: `<file>: unknown key "foo" in [dpdk] (known keys: a, b)`. */
  static unknownKey(file: string, section: string, key: string, knownKeys: readonly string[]): FfnetConfigError {
    const detail = `unknown key "${key}" in [${section}] (known keys: ${knownKeys.join(', ')})`;
    return new FfnetConfigError(file, section, key, detail, `${file}: ${detail}`);
  }

  /** A section ffnet does not define: `<file>: unknown section [pcapx] (known sections: ...)`. */
  static unknownSection(file: string, section: string, knownSections: readonly string[]): FfnetConfigError {
    const detail = `unknown section [${section}] (known sections: ${knownSections.join(', ')})`;
    return new FfnetConfigError(file, section, undefined, detail, `${file}: ${detail}`);
  }

  /** The file could not be read: `cannot read config file <path>: ENOENT (no such file)`. */
  static unreadable(file: string, cause: unknown): FfnetConfigError {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const reason = errno !== undefined
      ? `${errno} (${ERRNO_TEXT[errno] ?? (cause as Error).message})`
      : String((cause as Error | undefined)?.message ?? cause);
    const err = new FfnetConfigError(file, undefined, undefined, reason, `cannot read config file ${file}: ${reason}`);
    (err as { cause?: unknown }).cause = cause;
    return err;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
};

function composeMessage(file: string, section: string | undefined, key: string | undefined, detail: string): string {
  let where = '';
  if (section !== undefined) where += `[${section}]`;
  if (key !== undefined) where += (where ? ' ' : '') + key;
  return where ? `${file}: ${where}: ${detail}` : `${file}: ${detail}`;
}
