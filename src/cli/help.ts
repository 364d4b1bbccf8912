/**
 * `ua --help` and the man page, both rendered from the option table (args.ts OPTIONS, each visible
 * option in one of GROUPS) and the examples below, so a new option shows up in both by being added
 * to the table. The header keeps the classic layout (ua-behavior §1.1: `Usage:` line, blank line,
 * `Available options:`); the groups under it are boost's captioned sub-lists.
 */
import { UA_VERSION } from '../version.js';
import { GROUPS, OPTIONS, takesValue, type OptionSpec } from './args.js';

export interface Example {
  /** What it does, one line. */
  what: string;
  command: string;
}

export const EXAMPLES: readonly Example[] = [
  {
    what: 'Upload a file to a folder of a project',
    command: 'ua --project project-xxxx --folder /reads sample1.fastq.gz',
  },
  {
    what: 'Upload a run folder and everything under it, with progress (remote folder /runs/42)',
    command: 'ua --project "NovaSeq run 42" --folder /runs --recursive --progress runs/42',
  },
  {
    what: 'Resume after a failure, Ctrl-C or a crash: the same command again sends only the missing parts',
    command: 'ua --project "NovaSeq run 42" --folder /runs --recursive --progress runs/42',
  },
  {
    what: 'Check the token, the server, the proxy and your access to a project, uploading nothing',
    command: 'ua --test --project project-xxxx',
  },
];

/** The subcommands, which come before any option (a file named like one is given as ./name). */
export const COMMANDS: readonly (Example & { name: string })[] = [
  {
    name: 'daemon',
    what: 'Watch run folders and upload them as the instrument writes them (see ua daemon --help)',
    command: 'ua daemon --watch DIR --project P [options]',
  },
  { name: 'completion', what: 'Print a shell completion script', command: 'ua completion bash|zsh' },
];

const visible = (group: string): OptionSpec[] => OPTIONS.filter((o) => !o.hidden && o.group === group);

/** `-c [ --compress-threads ] arg`, boost's spelling. */
function optionLabel(o: OptionSpec): string {
  return `${o.short ? `-${o.short} [ --${o.long} ]` : `--${o.long}`}${takesValue(o) ? ' arg' : ''}`;
}

/** Lines of the help are at most this long (boost wrapped at 80; the option column is wider here). */
const HELP_WIDTH = 100;

/** Word-wraps a description that starts at column `indent`, continuation lines indented to it. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

export function helpText(program = 'ua'): string {
  const width = Math.max(...OPTIONS.filter((o) => !o.hidden).map((o) => optionLabel(o).length)) + 4;
  const sections = GROUPS.map((g) => {
    const rows = visible(g).map((o) => `  ${optionLabel(o)}`.padEnd(width) + wrap(o.help, width));
    return `${g}:\n${rows.join('\n')}\n`;
  });
  const examples = EXAMPLES.map((e) => `  ${e.what}:\n    ${e.command}\n`);
  const commands = COMMANDS.map((c) => `  ${c.command}\n      ${c.what}\n`);
  return (
    `Usage: ${program} [options] <file> [...]\n\nAvailable options:\n\n${sections.join('\n')}\n` +
    `Examples:\n${examples.join('')}\nCommands:\n${commands.join('')}`
  );
}

/** Text for roff: backslashes and hyphens escaped, and no line may start with a control character. */
function roff(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

/** ua(1) in man(7) macros: the same groups, options and examples as `--help`. */
export function manPage(): string {
  const out: string[] = [
    `.TH UA 1 "" "ua ${UA_VERSION}" "User Commands"`,
    '.SH NAME',
    'ua \\- bulk upload agent for the platform, a drop\\-in for the classic Upload Agent',
    '.SH SYNOPSIS',
    '.B ua',
    '[\\fIoptions\\fR] \\fIfile\\fR ...',
    ...COMMANDS.flatMap((c) => ['.br', `.B ${roff(c.command)}`]),
    '.SH DESCRIPTION',
    roff(
      'Uploads files, directories (with --recursive) or stdin (with --read-from-stdin) to a project on the platform. ' +
        'stdout has one line per input file, in input order: its file ID, or "failed"; everything else goes to stderr. ' +
        'An interrupted upload resumes when the same command is run again.',
    ),
    '.SH OPTIONS',
  ];
  for (const g of GROUPS) {
    out.push(`.SS ${roff(g)}`);
    for (const o of visible(g)) {
      const names = [o.short ? `\\fB\\-${o.short}\\fR, ` : '', `\\fB${roff(`--${o.long}`)}\\fR`].join('');
      out.push('.TP', takesValue(o) ? `${names} \\fIarg\\fR` : names, roff(o.help));
    }
  }
  out.push('.SH EXAMPLES');
  for (const e of EXAMPLES)
    out.push('.PP', roff(`${e.what}:`), '.PP', '.RS', '.nf', roff(e.command), '.fi', '.RE');
  out.push(
    '.SH EXIT STATUS',
    roff(
      '0 when every file is uploaded; 1 for bad input or when any file failed; 3 when the API server or the token is unusable; ' +
        '130 after SIGINT and 143 after SIGTERM (rerun to resume); 141 when stdout was closed by its reader.',
    ),
    '.SH ENVIRONMENT',
    ...[
      [
        'DX_SECURITY_CONTEXT',
        'the token, as {"auth_token_type":"Bearer","auth_token":"..."} (else --auth-token, else ~/.dnanexus_config)',
      ],
      [
        'DX_APISERVER_PROTOCOL, DX_APISERVER_HOST, DX_APISERVER_PORT',
        'the API server (default https://api.dnanexus.com:443)',
      ],
      ['DX_PROJECT_CONTEXT_ID', 'the current project, used when no --project is given'],
      ['HTTPS_PROXY, HTTP_PROXY, NO_PROXY', 'the proxy for every request (lower-case names too)'],
      ['UA_STATE_DIR', 'the resume journal directory (as --state-dir)'],
    ].flatMap(([k, v]) => ['.TP', `\\fB${roff(k)}\\fR`, roff(v)]),
  );
  return `${out.join('\n')}\n`;
}
