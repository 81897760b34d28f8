export { createCsvSource } from './csv-source.js';
export { CsvSourceOptions } from './options.js';
