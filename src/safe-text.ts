/**
 * Control characters (C0, DEL, C1), Unicode line separators and bidirectional overrides: the
 * characters that let text rewrite a terminal, forge log lines or reorder what a reader sees.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Whether `text` has a character `printable` would escape. */
export function hasUnsafeChars(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}

/**
 * Caller-supplied text made safe to echo into logs and messages: unsafe characters as `\uXXXX`,
 * cut to `max` characters.
 */
export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
