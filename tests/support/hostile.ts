/** Attempts to smuggle config text through a label value. */
export const INJECTIONS = [
  "a;b",
  "a}b",
  "a{b",
  "a\nb",
  "a\r\nserver evil 1.2.3.4:80;",
  "a b",
  "a\tb",
  'a"b',
  "a'b",
  "a`b",
  "a#b",
  "a\\b",
  "a$b",
  "a\u0000b",
  "a\u202eb", // right-to-left override
  "ex\u0430mple.com", // Cyrillic a
  "exampl\u212A.com", // Kelvin sign: lowercases to k
  "example\uff0ecom", // fullwidth full stop
];
