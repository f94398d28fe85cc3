/** Settings and output shared by the bench scripts. */

/** A whole number from the environment (a size or a count), or the fallback when unset. */
export function size(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** One line to stdout: the figures; failures and child processes' warnings go to stderr. */
export const say = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * `--name value` and `--name=value` command-line flags set the environment
 * variable `flags[name]` (before the settings are read), so
 * `npm run bench:x -- --readings 200000` is `BENCH_READINGS=200000`.
 */
export function flagsToEnv(argv: readonly string[], flags: Readonly<Record<string, string>>): void {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const variable = match?.[1] === undefined ? undefined : flags[match[1]];
    if (!match || variable === undefined) throw new Error(`unknown argument "${arg}"; flags: ${Object.keys(flags).map((f) => `--${f}`).join(', ')}`);
    const value = match[2] ?? argv[(i += 1)];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    process.env[variable] = value;
  }
}
