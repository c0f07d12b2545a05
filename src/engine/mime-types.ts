/**
 * The media type of a file the program wrote, from its name's extension, for what a caller gets
 * back (one-shot outputs[], a session's files). A table rather than a dependency: these are the
 * types code interpreters and their callers deal in; anything else is application/octet-stream.
 */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp',
  svg: 'image/svg+xml', ico: 'image/vnd.microsoft.icon', tif: 'image/tiff', tiff: 'image/tiff',
  pdf: 'application/pdf', json: 'application/json', geojson: 'application/geo+json', ndjson: 'application/x-ndjson',
  xml: 'application/xml', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar',
  wasm: 'application/wasm', parquet: 'application/vnd.apache.parquet',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  txt: 'text/plain', log: 'text/plain', out: 'text/plain', csv: 'text/csv', tsv: 'text/tab-separated-values',
  html: 'text/html', htm: 'text/html', css: 'text/css', md: 'text/markdown', js: 'text/javascript', mjs: 'text/javascript',
  py: 'text/x-python', c: 'text/x-c', h: 'text/x-c', yaml: 'application/yaml', yml: 'application/yaml', toml: 'application/toml',
  wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', mp4: 'video/mp4', webm: 'video/webm',
};

export const DEFAULT_MIME = 'application/octet-stream';

/** The media type for `path` (by its last extension, case-insensitive). */
export function guessMime(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_MIME;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? DEFAULT_MIME;
}
