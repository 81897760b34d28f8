export { createHttpSource } from './http-source.js';
export { HttpSourceOptions } from '../../config/sources/http-options.js';
