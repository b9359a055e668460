// What a slice of the one store is given: `set` and `get` over its own part only. A slice never names the combined
// state (that would make every slice import the store that imports it); store/index.ts hands each creator the store's
// own set/get, which accept more than the slice asks for.
export type SetSlice<T> = (partial: Partial<T> | ((state: T) => Partial<T>)) => void;
export type SliceCreator<T> = (set: SetSlice<T>, get: () => T) => T;
