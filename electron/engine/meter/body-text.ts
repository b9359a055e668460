// A host's error body that is not JSON, in a few words (for the agent's error message and the tile).

/** What a non-JSON error body was, in a few words: an HTML page by its title, else its first line of text. */
export function describeBody(text: string): string {
  if (/<html|<!doctype/i.test(text)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
    return title ? `an HTML page ("${title.slice(0, 120)}")` : 'an HTML page';
  }
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return line ? `"${line.slice(0, 160)}"` : 'an empty body';
}
