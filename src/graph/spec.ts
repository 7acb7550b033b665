/**
 * Op specs travel inside task arguments. An instance of this class is literal data to the
 * wire encoder (only plain objects and arrays are searched for task references), so a spec with
 * a big expression tree is cloned once per message, not walked per task.
 */
export class OpSpec<T extends object> {
  constructor(fields: T) {
    Object.assign(this, fields);
  }
}

export function opSpec<T extends object>(fields: T): T {
  return new OpSpec(fields) as unknown as T;
}
