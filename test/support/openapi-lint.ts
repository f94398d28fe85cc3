import { execFile } from 'node:child_process';
import { projectRoot } from '../../src/platform/project-root';

export interface LintProblem {
  readonly severity: 'error' | 'warn';
  readonly ruleId: string;
  readonly message: string;
  /** JSON pointers into the document. */
  readonly pointers: readonly string[];
}

/*
 * @redocly/openapi-core is ESM-only and jest's CommonJS runtime cannot load
 * it on Node 20, so the linter runs in a Node process of its own (as its CLI
 * would), reading the document on stdin and printing the problems as JSON.
 */
const LINT_SCRIPT = `
import { createConfig, lintFromString } from '@redocly/openapi-core';
let source = '';
for await (const chunk of process.stdin) source += chunk;
const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({ source, absoluteRef: '/openapi.json', config });
process.stdout.write(JSON.stringify(problems.filter((p) => !p.ignored).map((p) => ({
  severity: p.severity, ruleId: p.ruleId, message: p.message, pointers: p.location.map((l) => l.pointer ?? ''),
}))));
`;

/** Lints an OpenAPI document with Redocly's `recommended` ruleset. */
export function lintOpenApi(document: unknown): Promise<LintProblem[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', LINT_SCRIPT],
      { cwd: projectRoot(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the OpenAPI linter failed: ${error.message}\n${stderr}`));
          return;
        }
        const problems: unknown = JSON.parse(stdout);
        if (!Array.isArray(problems)) {
          reject(new Error(`the OpenAPI linter printed no list: ${stdout.slice(0, 200)}`));
          return;
        }
        resolve(problems as LintProblem[]);
      },
    );
    child.stdin?.end(JSON.stringify(document));
  });
}

export function formatProblem(problem: LintProblem): string {
  return `${problem.severity} ${problem.ruleId} at ${problem.pointers.join(', ')}: ${problem.message}`;
}
