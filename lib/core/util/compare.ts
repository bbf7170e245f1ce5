/** Code-unit order of two strings, independent of locale: output stays byte-stable. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
