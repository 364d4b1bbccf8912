/**
 * The command line: classic Upload Agent flags (ua-behavior §1.1–§1.3) plus ours, parsed with yargs
 * into UaOptions. One table (OPTIONS) drives the parser, the help text and the man page (help.ts) and
 * shell completion (completion.ts). Parse errors are
 * UsageError with `showHelp` (the caller prints the message and a pointer to `--help` on
 * stderr and exits 1). Validation against the positionals is config/options.ts `validate()`.
 */
import { UsageError } from '../errors.js';
import yargs, { type Argv } from 'yargs';
import {
  capUploadThreads,
  defaultOptions,
  parseDetails,
  parseError,
  parseProperties,
  parseSize,
  type UaOptions,
} from '../config/options.js';
import type { Compressor } from '../work/compressors.js';

export type Action = 'help' | 'version' | 'env' | 'test' | 'upload';

export interface ParsedArgs {
  action: Action;
  options: UaOptions;
  positionals: string[];
  /** For `help`: 0 when --help was given, 1 when there was no file (classic §1.1). */
  helpExitCode?: 0 | 1;
}

type Kind = 'flag' | 'count' | 'value' | 'list';

/** The sections of `--help` and of the man page, in the order they are listed. */
export const GROUPS = [
  'General',
  'Destination',
  'Selecting files',
  'Metadata',
  'Transfer',
  'Compression',
  'Output',
  'Advanced',
] as const;
export type Group = (typeof GROUPS)[number];

/** A visible option names its help group (one field); a hidden one (classic §1.3) has none. */
export type OptionSpec = { long: string; short?: string; kind: Kind; help: string } & (
  { group: Group; hidden?: false } | { hidden: true; group?: undefined }
);

/** Whether the option is given a value (`--x arg`); a flag or a counted flag (-v, -vv) is not. */
export const takesValue = (o: Pick<OptionSpec, 'kind'>): boolean => o.kind === 'value' || o.kind === 'list';

/** Every option, in help order within its group. Hidden ones are accepted but not listed. */
export const OPTIONS: readonly OptionSpec[] = [
  { long: 'help', short: 'h', kind: 'flag', group: 'General', help: 'Produce a help message' },
  { long: 'version', kind: 'flag', group: 'General', help: 'Print the version' },
  {
    long: 'env',
    short: 'e',
    kind: 'flag',
    group: 'General',
    help: 'Print environment information (the token is shown redacted)',
  },
  {
    long: 'auth-token',
    short: 'a',
    kind: 'value',
    group: 'General',
    help: 'Specify the authentication token',
  },
  {
    long: 'project',
    short: 'p',
    kind: 'list',
    group: 'Destination',
    help: 'Name or ID of a project (repeat: one per file, matched by position)',
  },
  {
    long: 'folder',
    short: 'f',
    kind: 'list',
    group: 'Destination',
    help: 'Name of folder to upload to (default "/"; repeat: one per file)',
  },
  {
    long: 'name',
    short: 'n',
    kind: 'list',
    group: 'Destination',
    help: 'Name of the remote file (repeat: one per file; default: the local name)',
  },
  {
    long: 'manifest',
    short: 'm',
    kind: 'flag',
    group: 'Selecting files',
    help: 'The first file argument is a JSON manifest of files to upload',
  },
  {
    long: 'visibility',
    kind: 'value',
    group: 'Metadata',
    help: 'Use "visible" or "hidden" (default "visible")',
  },
  {
    long: 'property',
    kind: 'list',
    group: 'Metadata',
    help: 'Key-value pair to add as a property; repeat as necessary, e.g. "--property key1=val1 --property key2=val2" (the value may contain "=")',
  },
  { long: 'type', kind: 'list', group: 'Metadata', help: 'Type of the data object; repeat as necessary' },
  { long: 'tag', kind: 'list', group: 'Metadata', help: 'Tag of the data object; repeat as necessary' },
  { long: 'details', kind: 'value', group: 'Metadata', help: 'JSON object or array to store as details' },
  { long: 'recursive', kind: 'flag', group: 'Selecting files', help: 'Upload directories recursively' },
  {
    long: 'read-threads',
    kind: 'value',
    group: 'Transfer',
    help: 'Number of parallel disk read threads (default 2)',
  },
  {
    long: 'compress-threads',
    short: 'c',
    kind: 'value',
    group: 'Compression',
    help: 'Number of parallel compression threads (default min(8, cores))',
  },
  {
    long: 'upload-threads',
    short: 'u',
    kind: 'value',
    group: 'Transfer',
    help: 'Number of parallel upload threads (default 8)',
  },
  {
    long: 'chunk-size',
    short: 's',
    kind: 'value',
    group: 'Transfer',
    help: 'Size of chunks in which the file should be uploaded, e.g. 75M (units B, K, M, G, T; default 75M; minimum 5M)',
  },
  {
    long: 'throttle',
    kind: 'value',
    group: 'Transfer',
    help: 'Limit upload speed to this many bytes/sec (units B, K, M, G; minimum 4K)',
  },
  {
    long: 'tries',
    short: 'r',
    kind: 'value',
    group: 'Transfer',
    help: 'Attempts per chunk in all (default 3; the classic agent made N+1 attempts)',
  },
  {
    long: 'do-not-compress',
    kind: 'flag',
    group: 'Compression',
    help: 'Do not compress files before uploading',
  },
  {
    long: 'compress-level',
    kind: 'value',
    group: 'Compression',
    help: 'gzip level 1-9 for compressed uploads (default 6)',
  },
  {
    long: 'compressor',
    kind: 'value',
    group: 'Compression',
    help: 'Deflate implementation for compressed uploads: libdeflate (default; node:zlib if it cannot load) or zlib',
  },
  {
    long: 'exclude',
    kind: 'list',
    group: 'Selecting files',
    help: 'Skip files matching this glob (relative path or base name); repeat as necessary',
  },
  // ----- file selection (plan/filter.ts, plan/files-from.ts: rclone's rules) and --dry-run
  {
    long: 'include',
    kind: 'list',
    group: 'Selecting files',
    help: 'Upload only files matching this glob (rclone rules: tried before --exclude; * stays in one directory, ** crosses them, /x is anchored); repeat as necessary',
  },
  {
    long: 'exclude-from',
    kind: 'list',
    group: 'Selecting files',
    help: 'Read --exclude globs from this file, one per line (# and ; start comments; - is stdin)',
  },
  {
    long: 'files-from',
    kind: 'list',
    group: 'Selecting files',
    help: 'Upload exactly the files listed in this file, one path per line relative to the one directory argument (# and ; start comments; - is stdin)',
  },
  {
    long: 'dry-run',
    kind: 'flag',
    group: 'General',
    help: 'Print the plan (files, remote names, sizes, parts, what a rerun would resume) and create nothing',
  },
  { long: 'progress', short: 'g', kind: 'flag', group: 'Output', help: 'Report upload progress' },
  {
    long: 'verbose',
    short: 'v',
    kind: 'count',
    group: 'Output',
    help: "Verbose logging on stderr: each file's plan and resume point, retries with the server's answer; -vv adds every part and API call with its time",
  },
  {
    long: 'log-file',
    kind: 'value',
    group: 'Output',
    help: 'Append a -vv log with timestamps to this file (created 0600; its directory must exist)',
  },
  {
    long: 'json',
    kind: 'flag',
    group: 'Output',
    help: 'Write JSON lines (events and one result per file) on stdout',
  },
  { long: 'wait-on-close', kind: 'flag', group: 'Transfer', help: 'Wait for files to be closed' },
  {
    long: 'verify',
    kind: 'flag',
    group: 'Transfer',
    help: 'After close, check every remote part against what was sent',
  },
  {
    long: 'do-not-resume',
    kind: 'flag',
    group: 'Transfer',
    help: 'Do not attempt to resume any incomplete uploads',
  },
  {
    long: 'direct',
    kind: 'flag',
    group: 'Advanced',
    help: "Write straight into the project's auto-symlink bucket/container with your own cloud credentials (AWS_* or AZURE_STORAGE_* variables), then register the file",
  },
  {
    long: 'state-dir',
    kind: 'value',
    group: 'Advanced',
    help: 'Directory for the resume journal (default $UA_STATE_DIR, $XDG_CACHE_HOME/ua or ~/.cache/ua)',
  },
  { long: 'test', kind: 'flag', group: 'General', help: 'Test upload agent settings' },
  {
    long: 'read-from-stdin',
    short: 'i',
    kind: 'flag',
    group: 'Selecting files',
    help: 'Read file content from stdin (the file argument gives the remote name)',
  },
  // hidden (classic §1.3)
  { long: 'file', kind: 'list', hidden: true, help: 'File or directory to upload' },
  { long: 'apiserver-protocol', kind: 'value', hidden: true, help: 'API server protocol' },
  { long: 'apiserver-host', kind: 'value', hidden: true, help: 'API server host' },
  { long: 'apiserver-port', kind: 'value', hidden: true, help: 'API server port' },
  { long: 'certificate-file', kind: 'value', hidden: true, help: 'CA bundle, or NOVERIFY' },
  { long: 'override-file-limit', kind: 'flag', group: 'Advanced', help: 'Allow more than 1000 files' },
  { long: 'reads', kind: 'flag', hidden: true, help: 'legacy import app (not supported)' },
  { long: 'paired-reads', kind: 'flag', hidden: true, help: 'legacy import app (not supported)' },
  { long: 'mappings', kind: 'flag', hidden: true, help: 'legacy import app (not supported)' },
  { long: 'variants', kind: 'flag', hidden: true, help: 'legacy import app (not supported)' },
  { long: 'ref-genome', kind: 'value', hidden: true, help: 'legacy import app (not supported)' },
];

const byShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

/** Parses argv (without node and script). Throws UsageError (showHelp) on a parse error. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const raw = runYargs(argv);
  const o = defaultOptions();
  const single = (long: string): string | undefined => {
    const v = raw[long];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) throw parseError(`option '--${long}' cannot be specified more than once`);
    return String(v);
  };
  const list = (long: string): string[] => {
    const v = raw[long];
    return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
  };
  const flag = (long: string): boolean => {
    const v = raw[long];
    return Array.isArray(v) ? v.some(Boolean) : Boolean(v);
  };
  const int = (long: string): number | undefined => {
    const v = single(long);
    if (v === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(v.trim()))
      throw parseError(`the argument ('${v}') for option '--${long}' is invalid`);
    return Number(v);
  };
  const size = (long: string): number | undefined => {
    const v = single(long);
    return v === undefined ? undefined : parseSize(v);
  };

  o.help = flag('help');
  o.version = flag('version');
  o.env = flag('env');
  o.test = flag('test');
  o.authToken = single('auth-token');
  o.projects = list('project');
  if (raw.folder !== undefined) o.folders = list('folder');
  o.names = list('name');
  o.manifest = flag('manifest');
  o.visibility = single('visibility') ?? o.visibility;
  o.properties = parseProperties(list('property'));
  o.types = list('type');
  o.tags = list('tag');
  o.details = parseDetails(single('details'));
  o.recursive = flag('recursive');
  o.readThreads = int('read-threads') ?? o.readThreads;
  o.compressThreads = int('compress-threads') ?? o.compressThreads;
  o.uploadThreads = int('upload-threads') ?? o.uploadThreads;
  o.chunkSize = size('chunk-size') ?? o.chunkSize;
  o.throttle = size('throttle');
  o.uploadThreads = capUploadThreads(o.uploadThreads, o.throttle); // classic: applied while parsing
  o.tries = int('tries') ?? o.tries;
  o.doNotCompress = flag('do-not-compress');
  o.compressLevel = int('compress-level') ?? o.compressLevel;
  o.compressor = (single('compressor') ?? o.compressor) as Compressor; // checked by validate()
  o.exclude = list('exclude');
  o.include = list('include');
  o.excludeFrom = list('exclude-from');
  o.filesFrom = list('files-from');
  o.dryRun = flag('dry-run');
  o.progress = flag('progress');
  o.verbosity = Math.min(2, Number(raw.verbose ?? 0) || 0); // -v 1, -vv (or -v -v) 2
  o.verbose = o.verbosity > 0;
  o.logFile = single('log-file');
  o.json = flag('json');
  o.waitOnClose = flag('wait-on-close');
  o.verify = flag('verify');
  o.doNotResume = flag('do-not-resume');
  if (flag('direct')) o.direct = true;
  o.stateDir = single('state-dir');
  o.readFromStdin = flag('read-from-stdin');
  o.apiserverProtocol = single('apiserver-protocol');
  o.apiserverHost = single('apiserver-host');
  const port = int('apiserver-port');
  o.apiserverPort = port === undefined || port < 0 ? undefined : port; // classic default −1 = from config
  o.certificateFile = single('certificate-file');
  o.overrideFileLimit = flag('override-file-limit');
  o.reads = flag('reads');
  o.pairedReads = flag('paired-reads');
  o.mappings = flag('mappings');
  o.variants = flag('variants');
  o.refGenome = single('ref-genome');

  // `--file X` and bare positionals both name files; `--file` values come first (boost kept argv order).
  const positionals = [
    ...list('file'),
    ...(raw._ as unknown[]).map(String),
    ...((raw['--'] as unknown[] | undefined) ?? []).map(String),
  ];

  if (positionals.length === 0 && o.filesFrom.length > 0 && !o.help && !o.env && !o.version && !o.test)
    throw new UsageError(
      `--files-from needs the directory its paths are relative to: ua --files-from ${o.filesFrom[0]} DIR`,
    );

  let action: Action = 'upload';
  let helpExitCode: 0 | 1 | undefined;
  if (o.env) action = 'env';
  else if (o.version) action = 'version';
  else if (o.test) action = 'test';
  else if (o.help || positionals.length === 0) {
    action = 'help';
    helpExitCode = o.help ? 0 : 1;
  }
  return { action, options: o, positionals, ...(helpExitCode !== undefined ? { helpExitCode } : {}) };
}

type RawArgs = Record<string, unknown> & { _: unknown[] };

/** yargs set up as the classic parser (boost's rules) with every option: here and for completion. */
export function uaParser(argv: readonly string[]): Argv {
  let y = yargs([...argv])
    .parserConfiguration({
      'duplicate-arguments-array': true,
      'camel-case-expansion': false,
      'boolean-negation': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'short-option-groups': true,
      'greedy-arrays': false,
      'populate--': true,
      'strip-aliased': true,
      'halt-at-non-option': false,
    })
    .help(false)
    .version(false)
    .exitProcess(false);
  for (const spec of OPTIONS) {
    y = y.option(spec.long, {
      ...(spec.short ? { alias: spec.short } : {}),
      type: spec.kind === 'flag' ? 'boolean' : spec.kind === 'count' ? 'count' : 'string',
      ...(takesValue(spec) ? { requiresArg: true } : {}),
      ...(spec.hidden ? { hidden: true } : { describe: spec.help }),
    });
  }
  return y;
}

function runYargs(argv: readonly string[]): RawArgs {
  const y = uaParser(argv)
    .strictOptions()
    .fail((msg, err) => {
      throw translateFailure(msg ?? err?.message ?? 'invalid arguments', argv);
    });
  try {
    return y.parseSync() as RawArgs;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw translateFailure((err as Error).message, argv);
  }
}

/** yargs' wording → the classic (boost) wording. */
function translateFailure(msg: string, argv: readonly string[]): UsageError {
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const first = unknown[1].split(', ')[0];
    return parseError(`unrecognised option '${spelledAs(first, argv)}'`);
  }
  const missing = /^Not enough arguments following: (.+)$/.exec(msg);
  if (missing) {
    const spec = byShort.get(missing[1]) ?? OPTIONS.find((o) => o.long === missing[1]);
    return parseError(`the required argument for option '--${spec?.long ?? missing[1]}' is missing`);
  }
  return parseError(msg);
}

/** How the user typed an unknown option (`-x`, `--foo`), for the message. */
function spelledAs(name: string, argv: readonly string[]): string {
  for (const a of argv) {
    if (a === '--') break;
    if (a === `--${name}` || a.startsWith(`--${name}=`)) return `--${name}`;
  }
  for (const a of argv) {
    if (a === '--') break;
    if (/^-[^-]/.test(a) && a.slice(1).includes(name)) return `-${name}`;
  }
  return name.length === 1 ? `-${name}` : `--${name}`;
}
