/**
 * Fault hooks for tests: make the server fail the next N API calls or part PUTs on purpose.
 * Rules are consumed in the order added; a rule matches when its target and (optional) route match.
 */
export type FaultTarget = 'api' | 'put';

export type FaultAction =
  /** Answer with `status` (and the platform's error envelope; 503/429 carry `Retry-After`). */
  | 'status'
  /** Destroy the connection before answering (for a PUT: after part of the body was read). */
  | 'drop'
  /** Do the real work, then destroy the connection instead of answering (a lost response). */
  | 'drop-response'
  /** Wait `delayMs`, then carry on normally. */
  | 'delay';

export interface FaultRule {
  target: FaultTarget;
  /** For `api`: a route key such as `file/new`, or for an entity route `file-` + `*` + `/upload`; unset = any call (or any PUT). */
  route?: string;
  action: FaultAction;
  /** How many matching requests this rule affects (default 1). */
  count?: number;
  status?: number;
  /** Seconds for `Retry-After` (default 1 with status 503/429). */
  retryAfter?: number;
  delayMs?: number;
}

export class Faults {
  readonly #rules: Array<FaultRule & { left: number }> = [];

  add(rule: FaultRule): void {
    this.#rules.push({ ...rule, left: rule.count ?? 1 });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** The rule to apply to this request, if any; uses up one of its count. */
  take(target: FaultTarget, route: string): FaultRule | undefined {
    const i = this.#rules.findIndex(
      (r) => r.target === target && (r.route === undefined || r.route === route),
    );
    if (i < 0) return undefined;
    const rule = this.#rules[i];
    if (--rule.left <= 0) this.#rules.splice(i, 1);
    return rule;
  }

  get pending(): number {
    return this.#rules.reduce((n, r) => n + r.left, 0);
  }
}
