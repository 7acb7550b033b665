/** Call a listener; one that throws is reported, and neither stops the others nor the timer. */
export function safely<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (err) {
    console.error("tessera: a metrics or progress listener threw:", err);
  }
}
