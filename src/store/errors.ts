/** Errors of the store (its own file, so the store's modules can share it without a cycle). */
export class StoreError extends Error {
  override name = "StoreError";
}
