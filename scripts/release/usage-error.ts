// A mistake in how the build script was called: build.ts prints the message
// alone and exits 2, so the user sees what to fix instead of a stack trace.
export class UsageError extends Error {
  override name = "UsageError";
}
