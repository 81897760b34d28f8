export { createHttpSource } from './http-source.js';
export { HttpSourceOptions } from './options.js';
