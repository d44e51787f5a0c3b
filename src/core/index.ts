/** The engine's public surface: everything a front end (editor, CLI, other tools) may use. */
export * from './errors';
export * from './events';
export * from './clock';
export * from './logger';
export * from './range';
export * from './retry';
export * from './record';
export * from './store';
export * from './http';
export * from './download';
export * from './runner';
export * from './manager';
export * from './format';
export * from './speed';
export { chooseFilename, sanitizeFilename, resolveInside, nextFreeName } from './filename';
export { parseContentDispositionFilename } from './content-disposition';
export { partPathFor } from './part-file';
