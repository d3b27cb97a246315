/** The shape every tsxen command implements; the table in commands.ts lists them. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text for `tsxen <name> --help`. */
  readonly usage: string;
  /** Returns the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** A user-facing error: printed without a stack trace, exit code 1 unless given. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
