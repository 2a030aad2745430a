// Exit codes shared by every command: 0 success, 1 a negative result (a broken
// chain, an undelivered event), 2 usage or I/O problems.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A problem the user can fix; printed without a stack trace. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
  }
}
