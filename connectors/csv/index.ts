export { createCsvSource, readCsvHeader } from './csv-source.js';
export { CsvSourceOptions } from '../../config/sources/csv-options.js';
