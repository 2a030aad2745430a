// Exit codes shared by every command, and the one base class for problems the
// user can fix: the dispatcher prints its message (no stack trace) and exits
// with its code. 0 success, 1 a negative result (a broken chain, an
// undelivered event), 2 usage or I/O problems.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UserFacingError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = new.target.name;
  }
}

/** A mistake in the command line itself (unknown flag, missing value, extra words). */
export class UsageError extends UserFacingError {}
