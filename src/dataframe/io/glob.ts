/**
 * Glob patterns over file paths, as shells write them: `*` (any characters but a separator),
 * `?` (one character), `[abc]` / `[a-z]` / `[!abc]` (one of a set), and `**` as a whole path
 * segment (zero or more directories). Pure string work: the directory walk that uses it lives in
 * source-node.ts, the only place that touches a file system.
 */

/** True when `s` holds a wildcard (`*`, `?` or a `[...]` set). */
export function hasGlobMagic(s: string): boolean {
  return /[*?]|\[[^\]]+\]/.test(s);
}

/** Path segments of a pattern ("/" or "\" separated; empty segments dropped, a leading "/" kept as ""). */
export function splitPath(pattern: string): string[] {
  const parts = pattern.split(/[\\/]+/);
  return parts.filter((p, i) => p !== "" || i === 0);
}

/** A RegExp matching one path segment against one pattern segment (not `**`). */
export function segmentRegExp(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/\\\\]*";
    else if (c === "?") re += "[^/\\\\]";
    else if (c === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Files of `names` (one directory's entries) that match a pattern segment. */
export function matchSegment(names: readonly string[], segment: string): string[] {
  if (!hasGlobMagic(segment)) return names.filter((n) => n === segment);
  const re = segmentRegExp(segment);
  return names.filter((n) => re.test(n));
}
