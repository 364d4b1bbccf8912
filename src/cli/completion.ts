/**
 * `ua completion bash|zsh` prints a completion script (yargs' own templates); the script calls
 * `ua --get-yargs-completions <words…>` on each TAB, answered here from the same parser and option
 * table as a real run (args.ts uaParser), so a new option completes without more code.
 */
import { errorLine } from './output.js';
import { OPTIONS, uaParser } from './args.js';
import { COMMANDS } from './help.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

/** Words that complete the first argument: the subcommands (ua.ts dispatches them before parsing). */
const COMMAND_NAMES = COMMANDS.map((c) => c.name);

/** yargs picks its template and its answer format from $SHELL/$ZSH_NAME when a parser is made. */
function parserFor(shell: Shell | undefined) {
  const saved = { SHELL: process.env.SHELL, ZSH_NAME: process.env.ZSH_NAME };
  if (shell) {
    process.env.SHELL = `/bin/${shell}`;
    delete process.env.ZSH_NAME;
  }
  try {
    return uaParser([]).completion('completion', false);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** `ua completion [bash|zsh]` (default: from $SHELL). */
export function completionScript(argv: readonly string[]): number {
  const asked = argv[0] ?? (process.env.SHELL?.endsWith('zsh') ? 'zsh' : 'bash');
  if (!(SHELLS as readonly string[]).includes(asked) || argv.length > 1) {
    errorLine(
      `ua completion takes one shell, bash or zsh (got '${argv.join(' ')}'); e.g. ua completion bash`,
    );
    return 1;
  }
  // Written to stdout, for `ua completion bash >> ~/.bashrc` or `source <(ua completion bash)`.
  // yargs 18 takes the program name ($0) to write into the script; @types/yargs (17) does not know it.
  (parserFor(asked as Shell).showCompletionScript as (name: string) => unknown)('ua');
  return 0;
}

const visible = new Set(
  OPTIONS.filter((o) => !o.hidden).flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]),
);

/**
 * The completions for `words` (the command line so far, `ua` first, the word being completed
 * last), one per line as the scripts read them. yargs offers every option spelled `--x` too for a
 * short alias `-x`, and hidden ones: only the visible spellings are kept.
 */
export async function completions(words: readonly string[]): Promise<string[]> {
  const all = await new Promise<readonly string[]>((resolve, reject) =>
    parserFor(undefined).getCompletion([...words], (err, c) => (err ? reject(err) : resolve(c ?? []))),
  );
  const shown = all.filter((c) => !c.startsWith('-') || visible.has(c.split(':')[0]));
  const current = words[words.length - 1] ?? '';
  if (words.length === 2 && !current.startsWith('-'))
    shown.unshift(...COMMAND_NAMES.filter((c) => c.startsWith(current)));
  return shown;
}

export async function completionAnswer(words: readonly string[]): Promise<number> {
  process.stdout.write((await completions(words)).map((c) => `${c}\n`).join(''));
  return 0;
}
