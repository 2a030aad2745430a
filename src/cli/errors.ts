// Transitional: the error base and exit codes live in src/errors.ts.
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UserFacingError as UserError } from "../errors.ts";
