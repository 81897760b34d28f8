export { createLdapSource } from './ldap-source.js';
export { LdapSourceOptions } from './options.js';
