// Owned by the files half of the server (files, parts, records). Placeholder so db.ts compiles.
export const FILES_SCHEMA = '';
