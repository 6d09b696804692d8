// Types for `./yaml/index.js`, which the server answers with the `yaml` package's browser build (ui-router.ts):
// only the type checker reads this file; it is never served.
export * from 'yaml';
