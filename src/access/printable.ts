/**
 * A value from a tenant's rows made safe to print on an operator's terminal: C0 and C1 control
 * characters (ESC starts terminal escape sequences: they can rewrite the screen, set the window
 * title, or on some terminals write to the clipboard), DEL and the Unicode bidirectional controls
 * (which reorder what is shown) become visible escapes, `\x1b` or `\u202e`. Tabs and newlines
 * become spaces, so that one row stays one line.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point here
const UNPRINTABLE = new RegExp('[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]', 'g');

export function printable(text: string): string {
  return text.replace(/[\t\n]/g, ' ').replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
