/** The "what to do next" sentences the diagnoses share. */
import type { TokenSource } from '../config/env.js';

interface Who {
  id: string;
  handle?: string;
}

/** How to make a token: the platform web UI, and the ua-platform command for the local server. */
export function newTokenAdvice(who?: Who, projectId?: string): string {
  const project = projectId ?? '<project-id>';
  const user = who?.handle ?? who?.id ?? '<user>';
  const scoped = projectId ? `scoped to ${projectId} at UPLOAD` : 'with UPLOAD access to the project';
  return (
    `Make a new token ${scoped}: in the platform web UI open your user menu → Profile → API Tokens → ` +
    `New Token (choose the project, UPLOAD and an expiry); on ua-platform run ` +
    `\`ua-platform token new --user ${user} --project ${project} --level UPLOAD\`. Then pass it with --auth-token.`
  );
}

export function inviteAdvice(who: Who, projectId: string): string {
  return (
    `Check the ID, then ask the project's owner (an ADMINISTER of it) to invite you at UPLOAD: ` +
    `\`dx invite ${who.id} ${projectId} UPLOAD\` (on ua-platform: \`ua-platform invite ${projectId} ${who.handle ?? who.id} UPLOAD\`).`
  );
}

/** A token scope in words: `UPLOAD on project-…`, `VIEW on every project`. */
export function scopeText(scope: { projects: Record<string, string> } | null | undefined): string {
  if (scope === undefined) return 'a limited scope';
  if (scope === null) return 'the full access of its user';
  const parts = Object.entries(scope.projects).map(([p, l]) =>
    p === '*' ? `${l} on every project` : `${l} on ${p}`,
  );
  return parts.length ? parts.join(', ') : 'no project at all';
}

export function sourceText(s: TokenSource): string {
  switch (s) {
    case 'flag':
      return '--auth-token';
    case 'env':
      return 'the DX_SECURITY_CONTEXT environment variable';
    case 'config-file':
      return 'DX_SECURITY_CONTEXT in ~/.dnanexus_config';
    default:
      return 'nowhere';
  }
}
