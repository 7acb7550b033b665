/**
 * One error type for the kernel layer. Messages start with "tessera kernels:" and name what was
 * wrong (the argument, its value, what was expected) and, where there is one, the fix.
 */

export class KernelError extends Error {
  override readonly name = "KernelError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(`tessera kernels: ${message}`, options);
  }
}
