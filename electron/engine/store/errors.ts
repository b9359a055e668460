// The store's one error: the data dir or its database cannot be used, and what to do about it.
export class StoreError extends Error {
  readonly code = 'data_dir';
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}
